-- Who may use a tenant's MCP endpoint: `api-key` (the default) or `public`.
ALTER TABLE tenants ADD COLUMN mcp_access TEXT NOT NULL DEFAULT 'api-key';
