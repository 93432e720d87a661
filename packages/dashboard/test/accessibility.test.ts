import { describe, expect, it } from 'vitest';
import { api } from '../../server/test/support/lethe-process.js';
import { axeViolations, countByImpact, describeViolation } from './support/axe.js';
import { ARTIFACTS, inPage, screenshot } from './support/browser.js';
import {
  errors,
  mint,
  openDemoDashboard,
  page,
  server,
  signInWithPastedToken,
} from './support/demo-dashboard.js';

/**
 * Every page of the dashboard on a phone (390 px, an iPhone 12–15) and a laptop (1280 px): no
 * serious or critical axe-core violation, and nothing that scrolls the page sideways
 * (docs/dashboard.md "Accessibility and screens").
 */

openDemoDashboard();

const WIDTHS = [390, 1280] as const;

interface PageVisit {
  readonly name: string;
  /** The address; a function when it needs something the test made first. */
  readonly path: string | (() => string);
  /** Visited before signing in. */
  readonly signedOut?: boolean;
}

let requestId = '';

const PAGES: readonly PageVisit[] = [
  { name: 'sign-in', path: '/', signedOut: true },
  { name: 'overview', path: '/' },
  { name: 'calendar', path: '/calendar' },
  { name: 'subjects', path: '/subjects' },
  { name: 'subject', path: '/subjects/u-2000' },
  // u-1001 has the demo's consent history: grants, a withdrawal and a use without consent.
  { name: 'consent', path: '/subjects/u-1001' },
  { name: 'requests', path: '/requests' },
  { name: 'request', path: () => `/requests/${encodeURIComponent(requestId)}` },
  { name: 'new-request', path: '/requests/+new' },
  { name: 'policies', path: '/policies' },
  { name: 'policy', path: '/policies/order-delivery' },
  { name: 'datamap', path: '/datamap' },
  { name: 'contracts', path: '/contracts' },
  { name: 'holds', path: '/holds' },
  { name: 'audit', path: '/audit' },
  { name: 'not-found', path: '/no-such-page' },
];

/** The page has its heading and has stopped loading (the data map: has drawn its graph). */
async function settled(): Promise<void> {
  await page.getByRole('heading', { level: 1 }).first().waitFor();
  await expect.poll(() => page.locator('.loading').count(), { timeout: 20_000 }).toBe(0);
  if (await page.locator('.graph').count()) await page.locator('.graph canvas').first().waitFor();
}

/** What a disclosure hides (the calendar's day grid, a task's attempts) is checked open too. */
function openEveryDisclosure(): Promise<unknown> {
  return inPage(page, `document.querySelectorAll('details').forEach((details) => { details.open = true; })`);
}

describe('accessibility and phone layout', { timeout: 120_000 }, () => {
  let admin = '';

  it.each(PAGES)('$name has no serious axe violation and fits 390 and 1280 px', async (visit) => {
    if (!admin) admin = await mint('admin');
    if (!requestId) {
      const filed = await api(server.url, admin, 'POST', '/v1/requests', {
        type: 'dsar',
        identifiers: { subject: 'u-2001' },
      });
      requestId = (filed.body as { id: string }).id;
    }
    if (!visit.signedOut) await signInWithPastedToken(admin);
    const path = typeof visit.path === 'string' ? visit.path : visit.path();

    const problems: string[] = [];
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: width < 800 ? 844 : 800 });
      await page.goto(`${server.url}${path}`);
      await settled();
      // As the page opens; the checks below see it with its disclosures open.
      await screenshot(page, `${visit.name}-${width}`, ARTIFACTS);
      await openEveryDisclosure();
      const overflow = await inPage<number>(page, 'document.documentElement.scrollWidth - window.innerWidth');
      if (overflow > 0) problems.push(`${visit.name} at ${width} px scrolls sideways by ${overflow} px`);
      const violations = await axeViolations(page);
      console.info(`axe ${visit.name} ${width}px: ${countByImpact(violations)}`);
      const blocking = [...violations.critical, ...violations.serious];
      if (blocking.length > 0) {
        problems.push(`${visit.name} at ${width} px:\n${blocking.map(describeViolation).join('\n')}`);
      }
    }
    expect(problems, problems.join('\n\n')).toEqual([]);
    expect(errors).toEqual([]);
  });
});
