import { fstatSync } from "node:fs";

interface BlockingHandle {
  setBlocking?(blocking: boolean): number;
}

/**
 * Keeps stdout and stderr in blocking mode when they are pipes or sockets (what a parent process
 * hands its children), as memcached leaves them.
 *
 * Node opens a stdio pipe through libuv, which sets O_NONBLOCK on it; the flag belongs to the
 * open file description, which a parent that started us with its own stdout or stderr shares.
 * The parent's writes then fail with EAGAIN as soon as the pipe is full. Node creates
 * process.stderr on its own (importing some builtins touches it), so it is put back in blocking
 * mode here, once the modules are loaded. Logs go out with blocking writes on fd 2 anyway
 * (pino's sync destination), like memcached's fprintf.
 */
export function keepStdioBlocking(): void {
  for (const [fd, stream] of [
    [1, () => process.stdout],
    [2, () => process.stderr],
  ] as const) {
    let pipe = false;
    try {
      const st = fstatSync(fd);
      pipe = st.isFIFO() || st.isSocket();
    } catch {
      continue; // closed
    }
    if (!pipe) continue;
    // `_handle` is Node's internal pipe handle; setBlocking is what Node itself uses for stdio on Windows.
    const handle = (stream() as unknown as { _handle?: BlockingHandle })._handle;
    handle?.setBlocking?.(true);
  }
}
