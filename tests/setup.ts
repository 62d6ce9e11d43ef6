// Tests must never depend on the developer's shell: no colours, no CI-specific behaviour.
delete process.env.FORCE_COLOR;
process.env.NO_COLOR = '1';
