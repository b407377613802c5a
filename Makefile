# The two commands a newcomer needs: `make run` (the main job) and `make test`.
SWIFT ?= swift
# Tests pin OpenBLAS to one thread: the machine is shared and 2-thread BLAS collapses under load.
export OPENBLAS_NUM_THREADS = 1
RUNNER_DEBUG = .build/debug/runner
RUNNER_RELEASE = .build/release/runner

.PHONY: run run-reference run-small test build release bench reliability clean

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release --product runner

# The main job: train the paper's five seeds from scratch (60000 epochs each, two at a time on
# one BLAS thread each: about 2 h 10 min here), then the LIB/PCA study and its report. Killed,
# it resumes from the last trainer checkpoint (see README.md).
run: release
	$(RUNNER_RELEASE) run pipelines/modadd.json -j 2

# The same study on the authors' five checkpoints: about a minute.
run-reference: release
	$(RUNNER_RELEASE) run pipelines/modadd-reference.json -j 2

# p = 31 from scratch through the report: a few seconds.
run-small: release
	$(RUNNER_RELEASE) run pipelines/modadd-small.json -j 2

# Tests run optimised (the numeric checks against the reference are 10-50x slower in debug);
# -enable-testing keeps @testable imports working in release.
TEST_FLAGS = -c release -Xswiftc -enable-testing

test:
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	$(SWIFT) test $(TEST_FLAGS) --skip-build

bench: release
	$(SWIFT) build -c release --product runner-bench
	.build/release/runner-bench --runner $(RUNNER_RELEASE)

# The reliability campaign (faults, bad inputs, fuzzing, concurrency, memory), with figures.
reliability: release
	scripts/reliability

clean:
	rm -rf .build results/*/ .runner
