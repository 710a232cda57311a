// The API faults (delay, 5xx, 429, timeout) applied the same way by every simulator, before the
// provider-specific handler runs. Returns false when the fault already answered the request.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { API_FAULTS, type FaultStore } from './faults.ts';

export function createApiFaultGate(faults: FaultStore, errorBody: (status: number) => unknown) {
  const holds = new Set<() => void>();
  return {
    async apply(request: FastifyRequest, reply: FastifyReply, scope: string | null | undefined): Promise<boolean> {
      const fault = faults.take(API_FAULTS, scope);
      if (fault === undefined) return true;
      switch (fault.fault) {
        case 'delay':
          await new Promise((resolve) => setTimeout(resolve, fault.value ?? 1000));
          return true;
        case 'http_500':
        case 'http_503': {
          const status = fault.fault === 'http_500' ? 500 : 503;
          await reply.code(status).send(errorBody(status));
          return false;
        }
        case 'http_429':
          await reply
            .code(429)
            .header('retry-after', String(fault.value ?? 1))
            .send(errorBody(429));
          return false;
        default:
          // timeout: hold the request until the client gives up (or faults are cleared). Wait on
          // the socket: a POST request's own 'close' fires as soon as its body has been read.
          await new Promise<void>((resolve) => {
            const socket = request.raw.socket;
            const release = () => {
              socket.off('close', release);
              holds.delete(release);
              resolve();
            };
            holds.add(release);
            socket.once('close', release);
          });
          reply.hijack();
          request.raw.socket.destroy();
          return false;
      }
    },
    releaseAll(): void {
      for (const release of [...holds]) release();
    },
  };
}

export type ApiFaultGate = ReturnType<typeof createApiFaultGate>;
