// Azure naming rules for the resources this project names, from
// https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
// (Microsoft.Compute, Microsoft.Network, Microsoft.Resources). Resource names are
// case-insensitive in Azure ("always perform a case-insensitive comparison of names"), which
// is why claw names are compared after case folding.

export type AzureNameKind =
  | "resourceGroup"
  | "virtualNetwork"
  | "subnet"
  | "networkSecurityGroup"
  | "networkInterface"
  | "publicIp"
  | "disk"
  | "gallery"
  | "galleryImage"
  | "virtualMachine"
  | "linuxComputerName"
  | "keyVault"
  | "keyVaultSecret";

interface Rule {
  label: string;
  min: number;
  max: number;
  /** Every character must match. */
  chars: RegExp;
  charsText: string;
  start?: RegExp;
  startText?: string;
  end?: RegExp;
  endText?: string;
  extra?: (name: string) => string | undefined;
}

const NETWORK_CHARS = /^[A-Za-z0-9_.-]$/;
const NETWORK_TEXT = "letters, digits, underscores, periods and hyphens";
const ALNUM = /^[A-Za-z0-9]$/;
const ALNUM_OR_UNDERSCORE = /^[A-Za-z0-9_]$/;

/** Microsoft.Network resources (and Compute disks) share this shape: 1-80, start alphanumeric, end alphanumeric or underscore. */
const networkRule = (label: string, min = 1, max = 80): Rule => ({
  label,
  min,
  max,
  chars: NETWORK_CHARS,
  charsText: NETWORK_TEXT,
  start: ALNUM,
  startText: "a letter or digit",
  end: ALNUM_OR_UNDERSCORE,
  endText: "a letter, digit or underscore",
});

const RULES: Record<AzureNameKind, Rule> = {
  // Resource groups also allow parentheses and Unicode letters; can't end with a period.
  resourceGroup: {
    label: "resource group name",
    min: 1,
    max: 90,
    chars: /^[\p{L}\p{N}_().-]$/u,
    charsText: "letters, digits, underscores, parentheses, periods and hyphens",
    // u: a character outside the BMP is one code point (the name is split into code points).
    end: /^[^.]$/u,
    endText: "anything but a period",
  },
  virtualNetwork: networkRule("virtual network name", 2, 64),
  subnet: networkRule("subnet name"),
  networkSecurityGroup: networkRule("network security group name"),
  networkInterface: networkRule("network interface name"),
  publicIp: networkRule("public IP address name"),
  disk: networkRule("managed disk name"),
  gallery: {
    label: "gallery name",
    min: 1,
    max: 80,
    chars: /^[A-Za-z0-9_.]$/,
    charsText: "letters, digits, underscores and periods (no hyphens)",
    start: ALNUM,
    startText: "a letter or digit",
    end: ALNUM,
    endText: "a letter or digit",
  },
  galleryImage: {
    label: "gallery image definition name",
    min: 1,
    max: 80,
    chars: NETWORK_CHARS,
    charsText: NETWORK_TEXT,
    start: ALNUM,
    startText: "a letter or digit",
    end: ALNUM,
    endText: "a letter or digit",
  },
  // The resource name of a Linux VM: up to 64 characters; can't use \/"[]:|<>+=;,?*@& or
  // whitespace; can't start with an underscore or end with a period or hyphen.
  virtualMachine: {
    label: "VM name",
    min: 1,
    max: 64,
    chars: /^[^\\/"[\]:|<>+=;,?*@&\s#%]$/u,
    charsText: 'anything but whitespace and \\ / " [ ] : | < > + = ; , ? * @ & # %',
    start: /^[^_]$/u,
    startText: "anything but an underscore",
    end: /^[^.-]$/u,
    endText: "anything but a period or hyphen",
  },
  // The Linux host name (osProfile.computerName): at most 64 characters (Compute API
  // reference, OSProfile.computerName). A claw's name is also its host name, so it must be a
  // valid host-name label: letters, digits and hyphens, not starting or ending with a hyphen
  // (RFC 1123) — the host-name restrictions on the naming-rules page forbid underscores and periods.
  linuxComputerName: {
    label: "Linux computer (host) name",
    min: 1,
    max: 64,
    chars: /^[A-Za-z0-9-]$/,
    charsText: "letters, digits and hyphens",
    start: ALNUM,
    startText: "a letter or digit",
    end: ALNUM,
    endText: "a letter or digit",
    extra: (name) => (/^\d+$/.test(name) ? "it can't be digits only" : undefined),
  },
  // Key Vault: 3-24 letters, digits and hyphens, starting with a letter, ending with a letter or
  // digit, no consecutive hyphens (Microsoft.KeyVault on the naming-rules page). The name is also
  // the vault's DNS name, unique across Azure.
  keyVault: {
    label: "Key Vault name",
    min: 3,
    max: 24,
    chars: /^[A-Za-z0-9-]$/,
    charsText: "letters, digits and hyphens",
    start: /^[A-Za-z]$/,
    startText: "a letter",
    end: ALNUM,
    endText: "a letter or digit",
    extra: (name) => (name.includes("--") ? "it can't contain consecutive hyphens" : undefined),
  },
  // Key Vault secret names: 1-127 letters, digits and hyphens (Set Secret's `secret-name`
  // pattern ^[0-9a-zA-Z-]+$, https://learn.microsoft.com/rest/api/keyvault/secrets/set-secret/set-secret).
  keyVaultSecret: {
    label: "Key Vault secret name",
    min: 1,
    max: 127,
    chars: /^[A-Za-z0-9-]$/,
    charsText: "letters, digits and hyphens",
  },
};

/**
 * Each rule's `chars` (one character, `^[...]$`) applied to a whole name at once, with the same
 * flags: `^(?:[...])*$`. In Unicode mode both take the name code point by code point; without it
 * the whole-name pattern takes UTF-16 units, the same thing when the name has no surrogates. A
 * name that passes is not split into characters.
 */
const WHOLE = new Map<Rule, RegExp>(
  Object.values(RULES).map((rule) => [
    rule,
    new RegExp(`^(?:${rule.chars.source.slice(1, -1)})*$`, rule.chars.flags),
  ]),
);
const SURROGATE = /[\uD800-\uDFFF]/;

/** Whether every character of `name` passes `rule.chars`, without splitting it when it does. */
const allCharsPass = (rule: Rule, name: string, surrogates: boolean) =>
  (rule.chars.unicode || !surrogates) && WHOLE.get(rule)!.test(name);

export function azureNameLabel(kind: AzureNameKind): string {
  return RULES[kind].label;
}

/** Why `name` is not a valid Azure name of this kind (one sentence), or undefined when it is. */
export function azureNameProblem(kind: AzureNameKind, name: string): string | undefined {
  const rule = RULES[kind];
  // Characters are code points; without surrogates each is one UTF-16 unit, and the name is not split.
  const surrogates = SURROGATE.test(name);
  const chars: ArrayLike<string> = surrogates ? Array.from(name) : name;
  if (chars.length < rule.min)
    return rule.min === 1 ? "it is empty" : `it must be at least ${rule.min} characters`;
  if (chars.length > rule.max) return `it is ${chars.length} characters; the limit is ${rule.max}`;
  const bad = allCharsPass(rule, name, surrogates)
    ? []
    : [...new Set(Array.from(chars).filter((c) => !rule.chars.test(c)))];
  if (bad.length > 0) {
    const shown = bad.map((c) => (/\s/.test(c) ? "whitespace" : `"${c}"`)).join(", ");
    return `it contains ${shown}; allowed are ${rule.charsText}`;
  }
  if (rule.start && !rule.start.test(chars[0]!)) return `it must start with ${rule.startText}`;
  if (rule.end && !rule.end.test(chars[chars.length - 1]!)) return `it must end with ${rule.endText}`;
  return rule.extra?.(name);
}
