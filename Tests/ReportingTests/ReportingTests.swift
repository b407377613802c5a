// Tests of the Reporting module.
