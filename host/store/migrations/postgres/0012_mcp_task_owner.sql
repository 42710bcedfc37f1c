-- Who started each MCP task (`key:<id>` or `user:<name>`; NULL on a public
-- endpoint): only the same caller may read, answer or cancel it.
ALTER TABLE mcp_tasks ADD COLUMN owner TEXT;
