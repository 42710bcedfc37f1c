// What kind of plugin a version is, from the world the server detected at upload.

export type PluginKind = 'http' | 'tools' | 'step' | 'unknown';

export function kindOfWorld(world: string): PluginKind {
  if (world.startsWith('wasi:http/')) return 'http';
  if (world.includes('tool-server') || world.includes('MCP tools')) return 'tools';
  if (world.includes('workflow-step')) return 'step';
  return 'unknown';
}

export const KIND_LABEL: Record<PluginKind, string> = {
  http: 'HTTP function',
  tools: 'MCP tool server',
  step: 'workflow step',
  unknown: 'component',
};
