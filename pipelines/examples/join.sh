#!/bin/sh
# Joins the files given as arguments into the stage's declared output, in order.
cat "$@" > "$RUNNER_OUTPUT_JOINED"
