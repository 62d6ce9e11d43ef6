import { describe, expect, it } from 'vitest';
import {
  assistantIdOf,
  claimedOrgs,
  extractFunctionCall,
  extractToolCalls,
  messageKind,
  own,
  parseArguments,
  parseEnvelope,
} from '../../src/receiver/messages.js';

describe('parseEnvelope', () => {
  it('accepts {"message":{"type":…}} and nothing else', () => {
    expect(parseEnvelope({ message: { type: 'tool-calls' } })).toEqual({ ok: true, message: { type: 'tool-calls' }, type: 'tool-calls' });
    for (const bad of [null, 1, 'x', [], {}, { message: null }, { message: [] }, { message: { type: '' } }, { message: { type: 3 } }, { message: { type: 'x'.repeat(65) } }]) {
      expect(parseEnvelope(bad).ok).toBe(false);
    }
  });

  it('ignores inherited and __proto__ keys', () => {
    const viaProto = JSON.parse('{"__proto__":{"message":{"type":"tool-calls"}}}') as unknown;
    expect(parseEnvelope(viaProto).ok).toBe(false);
    expect(own({}, 'constructor')).toBeUndefined();
    expect(own(JSON.parse('{"__proto__": 5}'), '__proto__')).toBe(5);
  });
});

describe('messageKind', () => {
  it('knows the three types that need an org and answer', () => {
    expect(['tool-calls', 'function-call', 'assistant-request', 'status-update', 'x'].map(messageKind)).toEqual([
      'tool-calls',
      'function-call',
      'assistant-request',
      'informational',
      'informational',
    ]);
  });
});

describe('extractToolCalls', () => {
  const call = (id: string, name: string, args: unknown) => ({ id, type: 'function', function: { name, arguments: args } });

  it('prefers toolCallList, then toolCalls, then toolWithToolCallList[].toolCall', () => {
    const a = call('a', 'one', { x: 1 });
    const b = call('b', 'two', '{"y":2}');
    expect(extractToolCalls({ toolCallList: [a], toolCalls: [b] })).toEqual([{ id: 'a', name: 'one', args: { x: 1 } }]);
    expect(extractToolCalls({ toolCallList: [], toolCalls: [b] })).toEqual([{ id: 'b', name: 'two', args: { y: 2 } }]);
    expect(extractToolCalls({ toolWithToolCallList: [{ type: 'function', toolCall: a }, { toolCall: b }] })).toEqual([
      { id: 'a', name: 'one', args: { x: 1 } },
      { id: 'b', name: 'two', args: { y: 2 } },
    ]);
    expect(extractToolCalls({})).toEqual([]);
    expect(extractToolCalls({ toolCallList: 'nope' })).toEqual([]);
  });

  it('falls back to name/parameters shapes and to the tool named by the path', () => {
    expect(extractToolCalls({ toolCallList: [{ id: 'p', name: 'viaName', parameters: { z: 3 } }] })).toEqual([{ id: 'p', name: 'viaName', args: { z: 3 } }]);
    expect(extractToolCalls({ toolCallList: [{ id: 'q', function: { parameters: { z: 4 } } }] }, 'fromPath')).toEqual([{ id: 'q', name: 'fromPath', args: { z: 4 } }]);
    expect(extractToolCalls({ toolCallList: [null, 7] })).toEqual([
      { id: '', name: '', args: {} },
      { id: '', name: '', args: {} },
    ]);
  });

  it('reports arguments it cannot read', () => {
    expect(parseArguments('{"a":')).toEqual({ args: null, error: 'The tool arguments are not valid JSON.' });
    expect(parseArguments('[1]')).toEqual({ args: null, error: 'The tool arguments must be a JSON object.' });
    expect(parseArguments(12)).toEqual({ args: null, error: 'The tool arguments must be an object or a JSON string.' });
    expect(parseArguments('')).toEqual({ args: {} });
    expect(parseArguments(null)).toEqual({ args: {} });
  });

  it('reads the legacy functionCall', () => {
    expect(extractFunctionCall({ functionCall: { name: 'f', parameters: { a: 1 } } })).toEqual({ id: '', name: 'f', args: { a: 1 } });
    expect(extractFunctionCall({ functionCall: 'f' })).toBeNull();
  });
});

describe('routing fields', () => {
  it('reads the assistant id, treating garbage as present but unusable', () => {
    expect(assistantIdOf({ call: { assistantId: 'asst-1' } })).toEqual({ present: true, id: 'asst-1' });
    expect(assistantIdOf({ call: {} })).toEqual({ present: false, id: null });
    expect(assistantIdOf({ call: { assistantId: null } })).toEqual({ present: false, id: null });
    expect(assistantIdOf({ call: { assistantId: 5 } })).toEqual({ present: true, id: null });
    expect(assistantIdOf({ call: { assistantId: 'x'.repeat(101) } })).toEqual({ present: true, id: null });
    expect(assistantIdOf({ call: { assistantId: 'a\u0000b' } })).toEqual({ present: true, id: null });
  });

  it('collects org claims from the four places, lower-cased', () => {
    const m = {
      assistant: { metadata: { org_id: 'ABC' } },
      call: { assistantOverrides: { metadata: { org_id: null }, variableValues: { org_id: 7 } } },
      customer: { metadata: { org_id: 'def' } },
    };
    expect(claimedOrgs(m)).toEqual([
      { path: 'message.assistant.metadata.org_id', value: 'abc' },
      { path: 'message.call.assistantOverrides.variableValues.org_id', value: null },
      { path: 'message.customer.metadata.org_id', value: 'def' },
    ]);
  });
});
