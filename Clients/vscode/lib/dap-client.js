'use strict';
// A small Debug Adapter Protocol client over a child process's stdio (Content-Length framing).
// It needs nothing but node; the tests drive `lmdbg --dap` with it, and anything outside VS Code can too.

const { spawn } = require('node:child_process');
const { EventEmitter } = require('node:events');

/** Frames one message: `Content-Length: N\r\n\r\n` and the UTF-8 JSON body. */
function frame(message) {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

/** Takes whole messages off the front of `buffer`; returns them and the bytes left over. */
function unframe(buffer) {
  const messages = [];
  for (;;) {
    const headerEnd = buffer.indexOf('\r\n\r\n');
    if (headerEnd < 0) break;
    const header = buffer.subarray(0, headerEnd).toString('ascii');
    const match = /^Content-Length:\s*(\d+)\s*$/im.exec(header);
    if (!match) throw new Error(`DAP header without Content-Length: ${JSON.stringify(header)}`);
    const length = Number(match[1]);
    const start = headerEnd + 4;
    if (buffer.length < start + length) break;
    messages.push(JSON.parse(buffer.subarray(start, start + length).toString('utf8')));
    buffer = buffer.subarray(start + length);
  }
  return { messages, rest: buffer };
}

/**
 * A DAP client for an adapter it starts. `request` resolves with the response's body (or `{}`) and rejects with
 * an Error carrying the adapter's message; every event is emitted as `event` and kept for `waitForEvent`.
 */
class DapClient extends EventEmitter {
  constructor(command, args = [], options = {}) {
    super();
    this.seq = 1;
    this.pending = new Map();
    this.events = [];
    this.buffer = Buffer.alloc(0);
    this.stderr = '';
    this.process = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve({ code, signal })));
    this.process.stdout.on('data', (chunk) => this.receive(chunk));
    this.process.stderr.on('data', (chunk) => { this.stderr += chunk.toString(); });
    this.process.on('exit', () => {
      for (const { reject } of this.pending.values()) reject(new Error(`the adapter exited; stderr: ${this.stderr}`));
      this.pending.clear();
    });
  }

  receive(chunk) {
    const { messages, rest } = unframe(Buffer.concat([this.buffer, chunk]));
    this.buffer = rest;
    for (const message of messages) {
      if (message.type === 'response') {
        const waiter = this.pending.get(message.request_seq);
        if (!waiter) continue;
        this.pending.delete(message.request_seq);
        if (message.success) waiter.resolve(message.body || {});
        else waiter.reject(Object.assign(new Error(message.message), { body: message.body, command: message.command }));
      } else if (message.type === 'event') {
        this.events.push(message);
        this.emit('event', message);
      }
    }
  }

  /** Sends a request; resolves with its response's body. */
  request(command, args = {}) {
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.process.stdin.write(frame({ seq, type: 'request', command, arguments: args }));
    });
  }

  /**
   * The first event named `name` after the `since`-th event received (default: any not yet waited for) that
   * satisfies `accept`; rejects after `timeout` milliseconds.
   */
  waitForEvent(name, { accept = () => true, since = this.consumed || 0, timeout = 120000 } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let index = since; index < this.events.length; index++) {
          const event = this.events[index];
          if (event.event === name && accept(event)) {
            this.consumed = index + 1;
            return event;
          }
        }
        return undefined;
      };
      const found = check();
      if (found) return resolve(found);
      const timer = setTimeout(() => {
        this.off('event', listener);
        reject(new Error(`no '${name}' event within ${timeout} ms; stderr: ${this.stderr}`));
      }, timeout);
      const listener = () => {
        const event = check();
        if (!event) return;
        clearTimeout(timer);
        this.off('event', listener);
        resolve(event);
      };
      this.on('event', listener);
    });
  }

  /** Ends the adapter's input; resolves with its exit status. */
  async close() {
    this.process.stdin.end();
    return this.exited;
  }
}

module.exports = { DapClient, frame, unframe };
