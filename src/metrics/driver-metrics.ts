// The driver's metric group: connection, events, callbacks, status updates and their
// acknowledgements, all from the driver's typed events (DriverEvents) and two getters read at
// scrape time. Works with any Executor under a MesosExecutorDriver, not only the pool executor.
import type { EventEmitter } from 'eventemitter3';
import { Gauge, type Registry } from 'prom-client';
import type { DriverEvents } from '../driver/events.js';
import { binding, type MetricsBinding } from './binding.js';
import { ACK_LATENCY_SECONDS_BUCKETS, CALLBACK_SECONDS_BUCKETS } from './buckets.js';
import { CounterFamily, HistogramFamily } from './families.js';
import { CALLBACK_NAMES, EVENT_TYPES, REFUSABLE_CALLS, STATUS_UPDATE_STATES } from './labels.js';
import {
  CALLBACK_DURATION_SECONDS,
  CALLS_REFUSED_TOTAL,
  CONNECTED,
  DISCONNECTIONS_TOTAL,
  EVENTS_RECEIVED_TOTAL,
  STATUS_UPDATES_TOTAL,
  SUBSCRIPTIONS_TOTAL,
  UNACKNOWLEDGED_UPDATES,
  UPDATE_ACK_LATENCY_SECONDS,
} from './names.js';

/** The families of this group. */
export const DRIVER_METRIC_NAMES: readonly string[] = Object.freeze([
  STATUS_UPDATES_TOTAL,
  UNACKNOWLEDGED_UPDATES,
  UPDATE_ACK_LATENCY_SECONDS,
  SUBSCRIPTIONS_TOTAL,
  DISCONNECTIONS_TOTAL,
  CALLS_REFUSED_TOTAL,
  CONNECTED,
  EVENTS_RECEIVED_TOTAL,
  CALLBACK_DURATION_SECONDS,
]);

/** What the driver metrics need from a driver: its events and two getters (a MesosExecutorDriver fits). */
export interface DriverMetricsSource {
  /** True between SUBSCRIBED and the next disconnection. */
  readonly subscribed: boolean;
  /** Updates recorded and not yet acknowledged. */
  readonly unacknowledgedUpdates: number;
  on: EventEmitter<DriverEvents>['on'];
  off: EventEmitter<DriverEvents>['off'];
}

/**
 * Registers the driver's families in `registry` and starts listening to `driver`.
 *
 * `mesos_executor_status_updates_total{state}` counts each update once, when the driver RECORDS
 * it (`updateRecorded`): from then on the driver delivers it at least once and the agent
 * deduplicates by uuid, so this is the number of updates the executor issued. Counting at the
 * agent's 202 instead would miss updates that only travel inside a SUBSCRIBE (recorded while
 * disconnected), and retries and replays would tempt double counting; here neither can happen.
 * Its `_total` for a terminal state therefore equals the tasks that ended so.
 */
export function registerDriverMetrics(registry: Registry, driver: DriverMetricsSource): MetricsBinding {
  const updates = new CounterFamily(registry, {
    name: STATUS_UPDATES_TOTAL,
    help: 'Status updates the executor issued (recorded by the driver for reliable delivery), by task state.',
    label: { name: 'state', values: STATUS_UPDATE_STATES },
  });
  new Gauge({
    name: UNACKNOWLEDGED_UPDATES,
    help: 'Status updates recorded and not yet acknowledged by the agent.',
    registers: [registry],
    collect() {
      this.set(driver.unacknowledgedUpdates);
    },
  });
  const ackLatency = new HistogramFamily(registry, {
    name: UPDATE_ACK_LATENCY_SECONDS,
    help: 'Time from recording a status update to the agent acknowledging it.',
    buckets: ACK_LATENCY_SECONDS_BUCKETS,
  });
  const subscriptions = new CounterFamily(registry, {
    name: SUBSCRIPTIONS_TOTAL,
    help: 'SUBSCRIBED events: the first subscription and every resubscription after a disconnection.',
  });
  const disconnections = new CounterFamily(registry, { name: DISCONNECTIONS_TOTAL, help: 'Connections to the agent lost.' });
  const refused = new CounterFamily(registry, {
    name: CALLS_REFUSED_TOTAL,
    help: 'Calls the agent refused with a status a retry does not change (not 503/404), by call. Never fatal: see the fault table.',
    label: { name: 'call', values: REFUSABLE_CALLS },
  });
  new Gauge({
    name: CONNECTED,
    help: '1 while subscribed to the agent, else 0.',
    registers: [registry],
    collect() {
      this.set(driver.subscribed ? 1 : 0);
    },
  });
  const events = new CounterFamily(registry, {
    name: EVENTS_RECEIVED_TOTAL,
    help: 'Events received from the agent, by type (UNKNOWN: a type this executor does not know).',
    label: { name: 'type', values: EVENT_TYPES },
  });
  const unknownEvent = events.slot('UNKNOWN');
  const callbacks = new HistogramFamily(registry, {
    name: CALLBACK_DURATION_SECONDS,
    help: 'Time spent in each Executor callback, until its promise settled for async ones.',
    label: { name: 'callback', values: CALLBACK_NAMES },
    buckets: CALLBACK_SECONDS_BUCKETS,
  });

  // Each listener is bound once, here, and does no more than a Map lookup and an array add.
  const removers: Array<() => void> = [];
  const on = <K extends keyof DriverEvents>(event: K, listener: EventEmitter.EventListener<DriverEvents, K>): void => {
    driver.on(event, listener);
    removers.push(() => driver.off(event, listener));
  };
  on('updateRecorded', (info) => {
    if (typeof info.state === 'string') updates.incLabel(info.state);
  });
  on('updateAcknowledged', (info) => ackLatency.observe(0, info.latencyMs / 1000));
  on('subscribed', () => subscriptions.inc());
  on('disconnected', () => disconnections.inc());
  on('callRefused', (info) => refused.incLabel(info.call));
  on('eventReceived', (info) => {
    if (!events.incLabel(info.type)) events.inc(unknownEvent);
  });
  // A name outside the Executor interface cannot come from the driver; it is not counted.
  on('callbackCompleted', (info) => callbacks.observeLabel(info.callback, info.durationMs / 1000));
  for (const name of DRIVER_METRIC_NAMES) removers.push(() => registry.removeSingleMetric(name));
  return binding(removers);
}
