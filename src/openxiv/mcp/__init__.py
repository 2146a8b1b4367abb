"""The MCP server: the platform's tools, resources and prompts for AI agents (docs/agents.md).

Every tool calls the same domain services as the REST API; this package only translates between
MCP and those services. `registry` holds the tool list, `tools` the tools themselves, `content`
the resources and prompts, `server` the protocol handlers, `http` the streamable-HTTP endpoint
mounted at `/mcp`, and `stdio` the `openxiv mcp` command.
"""
