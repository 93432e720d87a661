import { Component, type ErrorInfo, type ReactNode } from 'react';

/**
 * A page that throws while rendering shows what happened and a way on, instead of React's blank
 * screen. The navigation stays usable: the boundary wraps the page, not the layout.
 */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey: string }, { error?: Error }> {
  override state: { error?: Error } = {};

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override componentDidUpdate(previous: { resetKey: string }) {
    // Navigating to another page gives that page a fresh start.
    if (previous.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: undefined });
  }

  override componentDidCatch(error: Error, info: ErrorInfo) {
    console.error('the page failed to render', error, info.componentStack);
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="notice notice-error" role="alert">
        <p>
          <strong>This page failed to show.</strong> {this.state.error.message}
        </p>
        <p>Reload the page, or choose another one above. If it keeps happening, please report it.</p>
      </div>
    );
  }
}
