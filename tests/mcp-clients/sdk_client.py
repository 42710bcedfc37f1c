"""Connects to a PowerAutomation MCP endpoint with the official Python SDK,
lists the tools and calls `faults_echo`. MCP_URL, MCP_TOKEN."""

import asyncio
import os

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def main() -> None:
    headers = {"Authorization": f"Bearer {os.environ['MCP_TOKEN']}"}
    async with create_mcp_http_client(headers=headers) as http:
        async with streamable_http_client(os.environ["MCP_URL"], http_client=http) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = (await session.list_tools()).tools
                names = [tool.name for tool in tools]
                assert "faults_echo" in names, names
                text = "hello from the Python SDK"
                result = await session.call_tool("faults_echo", {"text": text})
                assert not result.is_error, result
                assert result.content[0].text == text, result
                print(f"Python SDK: listed {len(tools)} tools, called faults_echo")


asyncio.run(main())
