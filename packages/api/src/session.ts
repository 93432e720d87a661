import { Type, type Static } from '@sinclair/typebox';

/**
 * Who the caller is, as the server sees the bearer token, and what it may do: the dashboard
 * shows only the pages a token can use, without a copy of the permission table.
 */
export const SessionView = Type.Object({
  subject: Type.String(),
  role: Type.String(),
  issuer: Type.Optional(Type.String()),
  system: Type.Optional(Type.String()),
  /** Data categories the token is limited to; absent: every category. */
  categories: Type.Optional(Type.Array(Type.String())),
  grants: Type.Optional(Type.Array(Type.String())),
  /** Every permission the role holds (`policies:read`, …); narrower scopes still apply inside. */
  actions: Type.Array(Type.String()),
});
export type SessionView = Static<typeof SessionView>;
