import * as core from "@actions/core";
import { hello } from "@openclawps/fleet-model";
core.info(hello());
