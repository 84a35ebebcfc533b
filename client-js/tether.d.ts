// Type declarations for tether.js, the browser client bundled with tether (Engine.IO v4 +
// Socket.IO v5). The script defines the global `tether`; under CommonJS it is module.exports.

declare namespace tether {
  /** Transport names. */
  type TransportName = 'websocket' | 'streaming' | 'polling';

  /** Why a socket disconnected. */
  type DisconnectReason =
    | 'io server disconnect' // the server removed the socket from the namespace: no reconnection
    | 'io client disconnect' // socket.disconnect(): no reconnection
    | 'transport close' // the connection was closed (server restart, close packet, ...)
    | 'transport error' // the connection failed (network error, HTTP error)
    | 'ping timeout' // no ping from the server within pingInterval + pingTimeout
    | 'parse error' // the server sent something that is not Engine.IO / Socket.IO
    | 'forced close'; // socket.io.close() while the socket was active

  interface ConnectError extends Error {
    /** From the server's CONNECT_ERROR: what the middleware attached (absent for others). */
    data?: unknown;
    /** For a failed connection: the underlying error (an XHR status, a WebSocket error). */
    description?: unknown;
  }

  interface Options {
    /** Engine.IO endpoint path. Default '/socket.io/'. */
    path?: string;
    /** Sent in the namespace CONNECT, asked again on every (re)connect when a function. */
    auth?: Record<string, unknown> | ((cb: (auth: Record<string, unknown>) => void) => void);
    /** Extra query string parameters for every Engine.IO request. */
    query?: string | Record<string, string | number | boolean>;
    /**
     * Allowed transports, in order of preference. Default ['websocket', 'streaming', 'polling']:
     * WebSocket first; HTTP streaming (an EventSource receives, POSTs send; tether servers only)
     * when it fails or takes longer than wsTimeout and the browser has EventSource; long-polling
     * when that fails too. The one that worked is remembered for the page's session. Starting
     * on streaming or polling, the connection upgrades to WebSocket when the server offers it.
     */
    transports?: TransportName[];
    /** Default true. */
    reconnection?: boolean;
    /** Default Infinity. */
    reconnectionAttempts?: number;
    /** First retry delay, ms. Default 1000. */
    reconnectionDelay?: number;
    /** Cap of the exponential delay, ms (before the jitter). Default 5000. */
    reconnectionDelayMax?: number;
    /** Jitter: delay * (1 +- factor). Default 0.5. */
    randomizationFactor?: number;
    /** Connect timeout for each attempt, ms; 0 for none. Default 20000. */
    timeout?: number;
    /** How long each transport but the last may take to deliver the Engine.IO handshake before the next is tried, ms. Default 2500. */
    wsTimeout?: number;
    /** How many emits are kept while disconnected; when full, the oldest is dropped. Default 100. */
    maxBuffer?: number;
    /** Connect at once. Default true. */
    autoConnect?: boolean;
    /** XHR withCredentials for cross-origin long-polling with cookies. */
    withCredentials?: boolean;
  }

  /** The connection under a socket (socket.io-client's Manager, one per socket here). */
  interface Connection {
    /** The transport in use, once open. */
    transport?: TransportName;
    /** The backoff delay before retry number `attempt` (0-based). */
    delay(attempt: number): number;
    open(): Connection;
    /** Closes the connection; no reconnection. */
    close(): Connection;
    on(event: 'open', fn: () => void): Connection;
    on(event: 'close', fn: (reason: DisconnectReason) => void): Connection;
    on(event: 'error' | 'reconnect_error', fn: (err: ConnectError) => void): Connection;
    on(event: 'upgrade', fn: (transport: TransportName) => void): Connection;
    on(event: 'reconnect_attempt' | 'reconnect', fn: (attempt: number) => void): Connection;
    on(event: 'reconnect_failed', fn: () => void): Connection;
    once: Connection['on'];
    off(event?: string, fn?: (...args: any[]) => void): Connection;
  }

  /** A binary value: sent as an attachment; received as an ArrayBuffer. */
  type Binary = ArrayBuffer | ArrayBufferView;

  interface Socket {
    /** The socket id the server gave on CONNECT; undefined while disconnected. */
    readonly id: string | undefined;
    readonly connected: boolean;
    /** Whether the last connect recovered the earlier session (connection state recovery on the
     * server): same id and rooms, and the events missed while away arrived first. */
    readonly recovered: boolean;
    /** The namespace, from the URL's path. */
    readonly nsp: string;
    /** 'websocket' or 'polling', once connected. */
    readonly transport: TransportName | undefined;
    readonly io: Connection;

    on(event: 'connect', fn: () => void): this;
    on(event: 'connect_error', fn: (err: ConnectError) => void): this;
    on(event: 'disconnect', fn: (reason: DisconnectReason) => void): this;
    /** A server event; when the server asked for an ack, the last argument is the ack function. */
    on(event: string, fn: (...args: any[]) => void): this;
    once: Socket['on'];
    /** Without fn: every listener of the event; without event: every listener. */
    off(event?: string, fn?: (...args: any[]) => void): this;

    /**
     * Sends an event; a function as the last argument is called with the server's ack (never,
     * if the socket disconnects first). While disconnected, emits are buffered (maxBuffer) and
     * sent in order on (re)connect. Reserved names (connect, connect_error, disconnect,
     * disconnecting, newListener, removeListener) throw.
     */
    emit(event: string, ...args: any[]): this;
    /** emit('message', ...args) */
    send(...args: any[]): this;
    /**
     * The next emit's ack callback gets (err, ...response): err is null with the answer, an
     * Error 'operation has timed out' after ms without one, or 'socket has been disconnected'
     * at once when the socket disconnects before the answer.
     */
    timeout(ms: number): this;
    connect(): this;
    open(): this;
    /** Leaves the namespace and closes the connection; no reconnection. */
    disconnect(): this;
    close(): this;
  }

  interface CloseEvent { type: 'close'; target: WebSocket; code: number; reason: string; wasClean: boolean }
  interface MessageEvent { type: 'message'; target: WebSocket; data: string | ArrayBuffer | Blob | any }
  interface Event { type: 'open' | 'error'; target: WebSocket }

  /**
   * The browser's WebSocket API over a tether socket on the namespace of url's path: send()
   * emits the event "message", and the server's "message" events arrive as message events.
   * Works over streaming and long-polling too. No reconnection: once closed, it stays closed.
   * With a tether server: the server picks one of the offered subprotocols, and close codes
   * and reasons travel both ways.
   */
  class WebSocket {
    constructor(url: string, protocols?: string | string[], options?: Options);
    static readonly CONNECTING: 0;
    static readonly OPEN: 1;
    static readonly CLOSING: 2;
    static readonly CLOSED: 3;
    readonly CONNECTING: 0;
    readonly OPEN: 1;
    readonly CLOSING: 2;
    readonly CLOSED: 3;
    readonly url: string;
    /** The subprotocol the server picked, once open ('' before, or when none was offered). */
    readonly protocol: string;
    readonly extensions: '';
    readonly readyState: 0 | 1 | 2 | 3;
    /** Bytes handed to send() (UTF-8 for text) that the transport has not taken yet. */
    readonly bufferedAmount: number;
    /** How binary messages are delivered. Default 'blob'. */
    binaryType: 'blob' | 'arraybuffer';
    onopen: ((ev: Event) => void) | null;
    onmessage: ((ev: MessageEvent) => void) | null;
    onerror: ((ev: Event) => void) | null;
    onclose: ((ev: CloseEvent) => void) | null;
    addEventListener(type: 'open' | 'error', fn: (ev: Event) => void): void;
    addEventListener(type: 'message', fn: (ev: MessageEvent) => void): void;
    addEventListener(type: 'close', fn: (ev: CloseEvent) => void): void;
    removeEventListener(type: string, fn: (...args: any[]) => void): void;
    /**
     * Throws InvalidStateError while CONNECTING; sends nothing once CLOSING or CLOSED (the
     * bytes only add to bufferedAmount). A Blob (or File) is not sent: it throws
     * TypeError('send(await blob.arrayBuffer()), not a Blob') in any state but CONNECTING, and
     * nothing changes.
     */
    send(data: string | Binary | unknown): void;
    /**
     * code: 1000 or 3000-4999 (else InvalidAccessError); reason: at most 123 bytes of UTF-8
     * (else SyntaxError). A tether server's disconnect handler sees both.
     */
    close(code?: number, reason?: string): void;
  }

  /** Socket.IO protocol revision spoken: 5. */
  const protocol: 5;
}

/**
 * Connects to the namespace named by url's path (default: this page's origin, namespace "/").
 * Each call makes a socket with a connection of its own.
 */
declare function tether(url?: string, options?: tether.Options): tether.Socket;
declare function tether(options: tether.Options): tether.Socket;

export = tether;
export as namespace tether;
