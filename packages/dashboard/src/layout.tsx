import type { SessionView } from '@lethe/api';
import { lazy, Suspense, useEffect } from 'react';
import { ErrorBoundary } from './components/error-boundary.js';
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
import { SessionViewContext, useSession } from './session-context.js';
import { useApi } from './use-api.js';

interface PageEntry {
  readonly path: string;
  readonly label: string;
  /** The permission the page's main read needs; the navigation offers only pages a token can use. */
  readonly action: string;
}

/** The pages in the navigation, in the order a privacy team uses them. */
const PAGES: readonly PageEntry[] = [
  { path: '/', label: 'Overview', action: 'overview:read' },
  { path: '/subjects', label: 'Subjects', action: 'subjects:read' },
  { path: '/policies', label: 'Policies', action: 'policies:read' },
  { path: '/requests', label: 'Requests', action: 'requests:read' },
  { path: '/datamap', label: 'Data map', action: 'systems:read' },
  { path: '/calendar', label: 'Expiry calendar', action: 'expiries:read' },
  { path: '/holds', label: 'Legal holds', action: 'holds:read' },
  { path: '/contracts', label: 'Contracts', action: 'contracts:read' },
  { path: '/audit', label: 'Audit', action: 'audit:read' },
];

// The graph library is large: its page is loaded when first opened, not with the overview.
const DataMapPage = lazy(() => import('./pages/datamap-page.js'));

/** `/subjects/u-1001` → 'u-1001' (decoded); the one path parameter a route takes. */
function parameter(path: string, prefix: string): string | undefined {
  const rest = path.slice(prefix.length + 1);
  return rest ? decodeURIComponent(rest) : undefined;
}

function pageFor(path: string) {
  if (path === '/' || path === '/sign-in') return <OverviewPage />;
  if (path === '/subjects' || path.startsWith('/subjects/'))
    return <SubjectPage subject={parameter(path, '/subjects')} />;
  if (path === '/policies') return <PoliciesPage />;
  // "+" is not allowed in policy names, so this address never shadows a policy's own.
  if (path === NEW_POLICY_PATH) return <PolicyPage name={undefined} />;
  if (path.startsWith('/policies/')) return <PolicyPage name={parameter(path, '/policies')} />;
  if (path === '/requests') return <RequestsPage />;
  if (path === NEW_REQUEST_PATH) return <NewRequestPage />;
  if (path.startsWith('/requests/')) return <RequestPage id={parameter(path, '/requests') ?? ''} />;
  if (path === '/datamap')
    return (
      <Suspense fallback={<Loading what="the data map" />}>
        <DataMapPage />
      </Suspense>
    );
  if (path === '/calendar') return <CalendarPage />;
  if (path === '/holds') return <HoldsPage />;
  if (path === '/audit') return <AuditPage />;
  if (path === '/contracts') return <ContractsPage />;
  if (path === VIOLATIONS_PATH) return <ViolationsPage />;
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
  const pages = me.state === 'ready' ? PAGES.filter((entry) => me.data.actions.includes(entry.action)) : [];
  // A role without the overview (a service) starts on the first page it can use instead.
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
          <ErrorBoundary resetKey={path}>{pageFor(path)}</ErrorBoundary>
        </SessionViewContext.Provider>
      </main>
    </div>
  );
}
