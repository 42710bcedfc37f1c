// Connects to a PowerAutomation MCP endpoint with the official TypeScript
// SDK, lists the tools and calls `faults_echo`. MCP_URL, MCP_TOKEN.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const url = new URL(process.env.MCP_URL);
const headers = { Authorization: `Bearer ${process.env.MCP_TOKEN}` };
const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers } });
const client = new Client({ name: "pa-typescript-sdk-test", version: "1.0.0" });
await client.connect(transport);
const { tools } = await client.listTools();
const echo = tools.find((t) => t.name === "faults_echo");
if (!echo || echo.inputSchema.type !== "object") {
  throw new Error(`faults_echo not listed: ${JSON.stringify(tools)}`);
}
const text = "hello from the TypeScript SDK";
const result = await client.callTool({ name: "faults_echo", arguments: { text } });
if (result.isError || result.content[0].text !== text) {
  throw new Error(`unexpected result: ${JSON.stringify(result)}`);
}
await client.close();
console.log(`TypeScript SDK: listed ${tools.length} tools, called faults_echo`);
