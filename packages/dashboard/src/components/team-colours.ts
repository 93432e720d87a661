/**
 * One colour per team, the same on every page and reload: picked from a fixed palette by a hash of
 * the team's name, so a team keeps its colour when a filter hides the others. Every colour carries
 * white text at a contrast of at least 4.5:1 (system labels are drawn on it).
 */
const PALETTE = [
  '#1f5fa8',
  '#a83b1f',
  '#1e7a3c',
  '#7a3ca8',
  '#8a5a00',
  '#1f7a7a',
  '#a81f5f',
  '#4d5a1f',
  '#3c4aa8',
  '#6b4423',
] as const;

export function teamColour(team: string): string {
  let hash = 0;
  for (let index = 0; index < team.length; index++) hash = (hash * 31 + team.charCodeAt(index)) >>> 0;
  return PALETTE[hash % PALETTE.length] as string;
}
