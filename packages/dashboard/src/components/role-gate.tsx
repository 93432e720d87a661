import type { ReactNode } from 'react';
import { can } from '../permissions.js';
import { useSessionView } from '../session-context.js';
import { Page } from './page.js';
import { ErrorNotice, Loading } from './status.js';

/**
 * A page behind the permission its main read needs. A role without it (an address typed or
 * shared) is told in words what its role cannot do, instead of the page starting reads that the
 * server refuses; the page itself renders only once `/v1/session` has answered. A token limited to
 * categories is told that instead: `/v1/session` leaves out what such a token is refused whatever
 * its role (rights requests, legal holds).
 */
export function RoleGate(props: { need: string; what: string; children: ReactNode }) {
  const me = useSessionView();
  if (me.state === 'loading') return <Loading what="what your role may do" />;
  if (me.state === 'failed') return <ErrorNotice error={me.error} />;
  if (can(me.data, props.need)) return <>{props.children}</>;
  return (
    <Page title="Not for your role">
      <div className="notice notice-error" role="alert" data-testid="role-cannot">
        {me.data.categories ? (
          <>
            <p>
              <strong>
                Your token (role {me.data.role}, limited to {me.data.categories.join(', ')}) cannot{' '}
                {props.what}.
              </strong>
            </p>
            <p>
              The navigation shows the pages your token can use. This one answers for every data category: ask
              an administrator for a token without category limits.
            </p>
          </>
        ) : (
          <>
            <p>
              <strong>
                Your role ({me.data.role}) cannot {props.what}.
              </strong>
            </p>
            <p>
              The navigation shows the pages your role can use. For this one, ask an administrator for a token
              with another role.
            </p>
          </>
        )}
      </div>
    </Page>
  );
}
