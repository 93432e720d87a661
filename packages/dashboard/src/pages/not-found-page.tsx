import { Page } from '../components/page.js';
import { Link } from '../router.js';

export function NotFoundPage({ path }: { path: string }) {
  return (
    <Page title="No such page">
      <p>
        There is no page at <code>{path}</code>. <Link to="/">Go to the overview</Link>.
      </p>
    </Page>
  );
}
