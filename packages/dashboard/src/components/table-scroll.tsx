import type { ReactNode } from 'react';

/**
 * A table that scrolls sideways inside its own box, so that a phone scrolls the table and not the
 * page. The box is focusable and named: keyboard users scroll it with the arrow keys and screen
 * readers announce what it holds (WCAG 2.1.1; axe's `scrollable-region-focusable`).
 */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
