// Following a run: the server's event stream (`…/runs/{run}/events`, a `run`
// event with the whole run at every change), or polling once a second when
// the stream cannot be opened or breaks before the run ends.

import { useEffect, useState } from 'react';
import { get, messageOf, tenantPath } from '../../api/client';
import { readEvents } from '../../api/events';
import type { Run } from '../../api/types';
import { ENDED_RUN_STATES } from './graph';

const POLL_MS = 1000;

export type Following = 'stream' | 'polling';

export interface LiveRun {
  run: Run | null;
  setRun: (run: Run) => void;
  error: string | null;
  setError: (error: string | null) => void;
  following: Following;
}

export function useLiveRun(tenant: string, runId: string): LiveRun {
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [following, setFollowing] = useState<Following>('stream');

  useEffect(() => {
    const path = tenantPath(tenant, `/runs/${encodeURIComponent(runId)}`);
    const controller = new AbortController();
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const show = (next: Run) => {
      setRun(next);
      setError(null);
    };
    const poll = async () => {
      try {
        const next = await get<Run>(path);
        if (stopped) return;
        show(next);
        if (!ENDED_RUN_STATES.includes(next.state)) timer = setTimeout(poll, POLL_MS);
      } catch (e) {
        if (!stopped) setError(messageOf(e));
      }
    };
    const stream = async () => {
      let last: string | null = null;
      try {
        await readEvents(
          `${path}/events`,
          (event) => {
            if (event.event !== 'run' || stopped) return;
            const next = JSON.parse(event.data) as Run;
            last = next.state;
            show(next);
          },
          controller.signal,
        );
        if (last !== null && ENDED_RUN_STATES.includes(last)) return;
      } catch {
        // fall back to polling below
      }
      if (stopped) return;
      setFollowing('polling');
      void poll();
    };
    void stream();
    return () => {
      stopped = true;
      controller.abort();
      clearTimeout(timer);
    };
  }, [tenant, runId]);

  return { run, setRun, error, setError, following };
}
