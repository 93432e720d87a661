/** A legal hold as stored: its scope lists are JSON arrays of strings, null when not given. */
export interface HoldRow {
  name: string;
  reason: string;
  subjects: string | null;
  systems: string | null;
  categories: string | null;
  policies: string | null;
  review_at: number | null;
  created_at: number;
  created_by: string;
  updated_at: number;
  updated_by: string;
}

export interface HoldTables {
  holds: HoldRow;
}
