import { expect, test } from "vitest";
import { hello } from "@openclawps/fleet-model";
test("hello", () => expect(hello()).toBe("hi"));
