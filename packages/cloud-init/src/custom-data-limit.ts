// Azure's limit on osProfile.customData: "The base-64 encoded string is decoded to a binary
// array that is saved as a file on the Virtual Machine. The maximum length of the binary
// array is 65535 bytes." (VirtualMachine OSProfile.customData, Compute REST API reference,
// https://learn.microsoft.com/javascript/api/@azure/arm-compute/osprofile#@azure-arm-compute-osprofile-customdata).
// ARM enforces it on the encoded string: "Custom data in OSProfile must be in Base64 encoding
// and with a maximum length of 87380 characters" (InvalidParameter), 87380 = 4 * ceil(65535 / 3).

/** Maximum decoded size of customData, in bytes. */
export const CUSTOM_DATA_LIMIT_BYTES = 65_535;

/** Maximum length of the base64 customData string ARM accepts. */
export const CUSTOM_DATA_LIMIT_BASE64_CHARS = 4 * Math.ceil(CUSTOM_DATA_LIMIT_BYTES / 3);

export interface SizeContributor {
  /** What the bytes are: a destination path on the VM, or a part of the cloud-config. */
  name: string;
  /** Its share of the customData: its own gzip-compressed size (an estimate; gzip works on the whole). */
  bytes: number;
}

export class CustomDataTooLargeError extends Error {
  constructor(
    message: string,
    readonly contributors: { name: string; bytes: number }[],
  ) {
    super(message);
    this.name = "CustomDataTooLargeError";
  }
}
