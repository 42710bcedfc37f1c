// The people and tenants the global setup creates.

export const TENANT = 'acme';
export const FLOWS_TENANT = 'flows';

export const ADMIN_USER = { username: 'alice', password: 'alice-password-1', role: 'admin' };
export const VIEWER_USER = { username: 'vera', password: 'vera-password-1', role: 'viewer' };
export const OPERATOR_USER = { username: 'oscar', password: 'oscar-password-1', role: 'operator' };

/** A tool step of the `tools` plugin (components/conformance), an approval, a wait. */
export const RELEASE_WORKFLOW = `description: build, approve, ship
steps:
  - id: build
    tool: { plugin: tools, name: test_simple_text }
  - id: approve
    needs: [build]
    approval: { message: "Ship \${input.tag}?" }
  - id: ship
    needs: [approve]
    wait: { seconds: 0 }
`;

/** One test_step (components/test-step) step that fails at once, non-retryable, after logging. */
export const FLAKY_WORKFLOW = `description: fails at once and says so
steps:
  - id: work
    component:
      plugin: steps
      input: { fail: 5, retryable: false, log: "hello from the step" }
`;

/** One test_step step that publishes `input.html` as the index page of site `input.site`. */
export const PUBLISH_WORKFLOW = (plugin: string) => `description: publishes a page
steps:
  - id: publish
    component:
      plugin: ${plugin}
      input: { publish: { site: "\${input.site}", files: { index.html: "\${input.html}" } } }
`;

/** A requirement the orchestrator's rules plan as the `ocr-experience` template. */
export const REQUIREMENT = 'Extract the invoice number and total from scanned invoices';
