// A small MCP client over Streamable HTTP (stateful wire): initialize,
// tools/list, tools/call, and DELETE to end the session. It sends the
// signed-in user's token, or an API key when one is given.

import { send } from './client';

export interface Tool {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: unknown;
  outputSchema?: unknown;
}

export interface ToolResult {
  content?: { type: string; text?: string; [key: string]: unknown }[];
  structuredContent?: unknown;
  isError?: boolean;
}

export class McpError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

interface JsonRpcAnswer {
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

const PROTOCOL_VERSION = '2025-11-25';

/** The JSON-RPC answer with `id` in an SSE body (`data:` lines of `message` events). */
function answerInEventStream(text: string, id: number): JsonRpcAnswer | undefined {
  for (const event of text.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    if (!data) continue;
    const message = JSON.parse(data) as JsonRpcAnswer;
    if (message.id === id) return message;
  }
  return undefined;
}

export class McpClient {
  private sessionId: string | null = null;
  private protocolVersion: string | null = null;
  private nextId = 1;

  constructor(
    readonly endpoint: string,
    private readonly apiKey?: string,
  ) {}

  private headers(): Record<string, string> {
    const headers: Record<string, string> = {
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
    };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    if (this.sessionId) headers['mcp-session-id'] = this.sessionId;
    if (this.protocolVersion) headers['mcp-protocol-version'] = this.protocolVersion;
    return headers;
  }

  private post(body: unknown): Promise<Response> {
    const options = { headers: this.headers(), body: JSON.stringify(body), anonymous: Boolean(this.apiKey) };
    return send('POST', this.endpoint, options);
  }

  async request<T>(method: string, params: unknown = {}): Promise<T> {
    const id = this.nextId++;
    const response = await this.post({ jsonrpc: '2.0', id, method, params });
    const text = await response.text();
    const isStream = response.headers.get('content-type')?.includes('text/event-stream');
    let answer: JsonRpcAnswer | undefined;
    try {
      answer = isStream ? answerInEventStream(text, id) : (JSON.parse(text) as JsonRpcAnswer);
    } catch {
      throw new McpError(response.status, text || `HTTP ${response.status}`);
    }
    if (!answer) throw new McpError(response.status, `no answer to ${method} (HTTP ${response.status})`);
    if (answer.error) throw new McpError(answer.error.code, answer.error.message, answer.error.data);
    if (method === 'initialize') this.sessionId = response.headers.get('mcp-session-id');
    return answer.result as T;
  }

  async initialize(): Promise<{ protocolVersion: string; serverInfo: { name: string; title?: string; version: string } }> {
    const result = await this.request<{
      protocolVersion: string;
      serverInfo: { name: string; title?: string; version: string };
    }>('initialize', {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'powerautomation-console', version: '0.1.0' },
    });
    this.protocolVersion = result.protocolVersion;
    await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return result;
  }

  async listTools(): Promise<Tool[]> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.request<{ tools: Tool[]; nextCursor?: string }>('tools/list', cursor ? { cursor } : {});
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  callTool(name: string, args: unknown): Promise<ToolResult> {
    return this.request<ToolResult>('tools/call', { name, arguments: args });
  }

  async close(): Promise<void> {
    if (!this.sessionId) return;
    await send('DELETE', this.endpoint, { headers: this.headers(), anonymous: Boolean(this.apiKey) });
    this.sessionId = null;
  }
}
