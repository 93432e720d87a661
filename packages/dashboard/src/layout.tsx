import type { SessionView } from '@lethe/api';
import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { ErrorBoundary } from './components/error-boundary.js';
import { RoleGate } from './components/role-gate.js';
import { Loading } from './components/status.js';
import { OverviewPage } from './pages/overview-page.js';
import { NotFoundPage } from './pages/not-found-page.js';
import { PoliciesPage } from './pages/policies-page.js';
import { NEW_POLICY_PATH, PolicyPage } from './pages/policy-page.js';
import { AuditPage } from './pages/audit-page.js';
import { CalendarPage } from './pages/calendar-page.js';
import { HoldsPage } from './pages/holds-page.js';
import { ContractsPage } from './pages/contracts-page.js';
import { NEW_REQUEST_PATH, NewRequestPage } from './pages/new-request-page.js';
import { RequestPage } from './pages/request-page.js';
import { RequestsPage } from './pages/requests-page.js';
import { SubjectPage } from './pages/subject-page.js';
import { ViolationsPage } from './pages/violations-page.js';
import { VIOLATIONS_PATH } from './components/consent-violations-panel.js';
import { Link, navigate, useLocation } from './router.js';
import { can, LOOK_UP_SUBJECTS } from './permissions.js';
import { SessionViewContext, useSession } from './session-context.js';
import { useApi } from './use-api.js';

interface PageEntry {
  readonly path: string;
  readonly label: string;
  /** What the page's main read needs (permissions.ts); the navigation offers only pages a token can use. */
  readonly need: string;
}

/** The pages in the navigation, in the order a privacy team uses them. */
const PAGES: readonly PageEntry[] = [
  { path: '/', label: 'Overview', need: 'overview:read' },
  { path: '/subjects', label: 'Subjects', need: LOOK_UP_SUBJECTS },
  { path: '/policies', label: 'Policies', need: 'policies:read' },
  { path: '/requests', label: 'Requests', need: 'requests:read' },
  { path: '/datamap', label: 'Data map', need: 'systems:read' },
  { path: '/calendar', label: 'Expiry calendar', need: 'expiries:read' },
  { path: '/holds', label: 'Legal holds', need: 'holds:read' },
  { path: '/contracts', label: 'Contracts', need: 'contracts:read' },
  { path: '/audit', label: 'Audit', need: 'audit:read' },
];

// The graph library is large: its page is loaded when first opened, not with the overview.
const DataMapPage = lazy(() => import('./pages/datamap-page.js'));

/** `/subjects/u-1001` → 'u-1001' (decoded); the one path parameter a route takes. */
function parameter(path: string, prefix: string): string | undefined {
  const rest = path.slice(prefix.length + 1);
  return rest ? decodeURIComponent(rest) : undefined;
}

/** The page at `path`, behind what it needs: a role without it reads what it cannot do instead. */
function pageFor(path: string) {
  const gate = (need: string, what: string, page: ReactNode) => (
    <RoleGate need={need} what={what}>
      {page}
    </RoleGate>
  );
  if (path === '/' || path === '/sign-in') return gate('overview:read', 'see the overview', <OverviewPage />);
  if (path === '/subjects' || path.startsWith('/subjects/'))
    return gate(
      LOOK_UP_SUBJECTS,
      'look subjects up by id (an auditor needs a token with the subject-ids grant)',
      <SubjectPage subject={parameter(path, '/subjects')} />,
    );
  if (path === '/policies') return gate('policies:read', 'read policies', <PoliciesPage />);
  // "+" is not allowed in policy names, so this address never shadows a policy's own.
  if (path === NEW_POLICY_PATH)
    return gate('policies:write', 'create policies', <PolicyPage name={undefined} />);
  if (path.startsWith('/policies/'))
    return gate('policies:read', 'read policies', <PolicyPage name={parameter(path, '/policies')} />);
  if (path === '/requests') return gate('requests:read', 'read rights requests', <RequestsPage />);
  if (path === NEW_REQUEST_PATH) return gate('requests:create', 'file rights requests', <NewRequestPage />);
  if (path.startsWith('/requests/'))
    return gate(
      'requests:read',
      'read rights requests',
      <RequestPage id={parameter(path, '/requests') ?? ''} />,
    );
  if (path === '/datamap')
    return gate(
      'systems:read',
      'see the data map',
      <Suspense fallback={<Loading what="the data map" />}>
        <DataMapPage />
      </Suspense>,
    );
  if (path === '/calendar') return gate('expiries:read', 'read the expiry calendar', <CalendarPage />);
  if (path === '/holds') return gate('holds:read', 'read legal holds', <HoldsPage />);
  if (path === '/audit') return gate('audit:read', 'read the audit log', <AuditPage />);
  if (path === '/contracts') return gate('contracts:read', 'read data contracts', <ContractsPage />);
  if (path === VIOLATIONS_PATH) return gate('consent:read', 'read consent violations', <ViolationsPage />);
  return <NotFoundPage path={path} />;
}

function isCurrent(entry: PageEntry, path: string): boolean {
  return entry.path === '/' ? path === '/' : path === entry.path || path.startsWith(`${entry.path}/`);
}

export function Layout({ onSignOut }: { onSignOut: () => void }) {
  const session = useSession();
  const { path } = useLocation();
  // What the server says this token may do; until it answers, the navigation waits. Read here
  // once per page load and shared with the pages (e.g. whether subject ids may be linked).
  const me = useApi<SessionView>('/v1/session');
  const pages = me.state === 'ready' ? PAGES.filter((entry) => can(me.data, entry.need)) : [];
  // A role without the overview (e.g. a category-limited token) starts on the first page it can use.
  const landing =
    path === '/' && me.state === 'ready' && !pages.some((entry) => entry.path === '/') ? pages[0] : undefined;
  useEffect(() => {
    if (landing) navigate(landing.path, { replace: true });
  }, [landing]);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Lethe</span>
        <nav aria-label="Pages">
          <ul>
            {pages.map((entry) => (
              <li key={entry.path}>
                <Link to={entry.path} current={isCurrent(entry, path)}>
                  {entry.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>
            {session.subject} <span className="role">{session.role}</span>
            {session.categories ? (
              <span className="muted"> · categories {session.categories.join(', ')}</span>
            ) : null}
          </span>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">
        <SessionViewContext.Provider value={me}>
          {/* While a role without the overview is sent on, its page would only say it cannot. */}
          <ErrorBoundary resetKey={path}>
            {landing ? <Loading what="your first page" /> : pageFor(path)}
          </ErrorBoundary>
        </SessionViewContext.Provider>
      </main>
    </div>
  );
}
