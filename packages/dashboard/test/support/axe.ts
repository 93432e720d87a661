import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AxeResults, ImpactValue, Result } from 'axe-core';
import type { Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe's default rules (WCAG 2.0–2.2 A and AA, best practices) and one experimental rule:
 * `label-content-name-mismatch` (WCAG 2.5.3, a control's accessible name starts with the text it
 * shows), which speech-input users depend on and which the calendar's day grid once broke 90 times.
 */
const RULES = { 'label-content-name-mismatch': { enabled: true } };

export type AxeImpact = NonNullable<ImpactValue>;
export type ViolationsByImpact = Record<AxeImpact, Result[]>;

/**
 * Runs axe-core in `page` and returns its violations grouped by impact. Its source is evaluated
 * through the DevTools protocol, which the dashboard's Content-Security-Policy does not govern,
 * so the page is checked exactly as it is served.
 */
export async function axeViolations(page: Page): Promise<ViolationsByImpact> {
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate<AxeResults>(
    `axe.run(document, ${JSON.stringify({ rules: RULES, resultTypes: ['violations'] })})`,
  );
  const byImpact: ViolationsByImpact = { critical: [], serious: [], moderate: [], minor: [] };
  for (const violation of results.violations) byImpact[violation.impact ?? 'minor'].push(violation);
  return byImpact;
}

/** `serious 2 (color-contrast), moderate 1 (region)` — elements that break a rule, per impact. */
export function countByImpact(byImpact: ViolationsByImpact): string {
  const counts = Object.entries(byImpact)
    .filter(([, violations]) => violations.length > 0)
    .map(([impact, violations]) => {
      const elements = violations.reduce((sum, rule) => sum + rule.nodes.length, 0);
      return `${impact} ${elements} (${violations.map((rule) => rule.id).join(', ')})`;
    });
  return counts.length === 0 ? 'none' : counts.join(', ');
}

/** One rule and the elements that break it, for a failing test's message. */
export function describeViolation(violation: Result): string {
  const nodes = violation.nodes
    .slice(0, 5)
    .map(
      (node) =>
        `    ${node.target.join(' ')}\n      ${node.failureSummary?.replace(/\n/g, '\n      ') ?? ''}`,
    );
  const more = violation.nodes.length > 5 ? [`    … and ${violation.nodes.length - 5} more`] : [];
  return [
    `  [${violation.impact}] ${violation.id}: ${violation.help} (${violation.nodes.length}) ${violation.helpUrl}`,
    ...nodes,
    ...more,
  ].join('\n');
}
