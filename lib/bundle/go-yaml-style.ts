/**
 * The quoting rule of the YAML writer kubeadm's manifests go through (sigs.k8s.io/yaml → go-yaml v2,
 * encode.go `stringv`): a string that a YAML 1.1 reader would resolve as something else — a bool
 * (yes/no/on/off/y/n/true/false in their spellings), null (~, null, empty), a number (decimal, 0x, 0o,
 * 0b, octal, float, .inf/.nan), a timestamp or a base-60 float — is written double-quoted. Every other
 * string is written plain where YAML allows it, else single-quoted; that part the writer decides.
 */
const KEYWORDS = new Set([
  'y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON',
  'n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF',
  '', '~', 'null', 'Null', 'NULL',
  '.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF', '<<',
]);
const INT = /^[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)$/;
const BINARY = /^-?0b[01]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const DOT_FLOAT = /^\.[0-9]+(?:[eE][-+]?[0-9]+)?$/;
const TIMESTAMP = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|\s+)[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]*)?(?:\s*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$/;
const BASE60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;

/** True when go-yaml v2 writes this string double-quoted because, unquoted, it would not read back as a string. */
export function goYamlDoubleQuotes(s: string): boolean {
  if (KEYWORDS.has(s) || BASE60.test(s)) return true;
  const c = s[0];
  if (c === '.') return DOT_FLOAT.test(s);
  if (c === '+' || c === '-' || (c >= '0' && c <= '9')) {
    if (TIMESTAMP.test(s)) return true;
    const plain = s.replace(/_/g, '');
    return INT.test(plain) || FLOAT.test(plain) || BINARY.test(plain);
  }
  return false;
}
