import type { SettingDefinition } from '../config/setting-types.js';

/** The webhook settings of the reference (docs/configuration.md), in their place in SETTINGS. */
export const WEBHOOK_SETTINGS: readonly SettingDefinition[] = [
  {
    env: 'LETHE_WEBHOOK_ALLOW_HTTP',
    type: { kind: 'boolean' },
    default: 'false',
    description: 'Webhook receivers may be plain http on any host, not only loopback (a test setup only).',
    feature: 'webhooks.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_WEBHOOK_ALLOWED_NETWORKS',
    type: { kind: 'list' },
    defaultNote: 'none: public addresses only',
    description:
      'Networks (CIDR, like `10.20.0.0/16` or `::1/128`) webhook receivers may be in although not public: loopback, private, link-local.',
    feature: 'webhooks.md',
    readBy: 'serve',
  },
  {
    env: 'LETHE_WEBHOOK_LOG_RETENTION',
    type: { kind: 'iso-duration' },
    default: 'P30D',
    description:
      'How long delivered and failed webhook deliveries and their events are kept; pending ones always are.',
    feature: 'webhooks.md',
    readBy: 'serve',
  },
];
