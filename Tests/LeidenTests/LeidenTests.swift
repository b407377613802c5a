// Tests of the Leiden module.
