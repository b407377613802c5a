# The two commands a newcomer needs: `make run` (the main job) and `make test`.
SWIFT ?= swift
# Tests pin OpenBLAS to one thread: the machine is shared and 2-thread BLAS collapses under load.
export OPENBLAS_NUM_THREADS = 1
RUNNER_DEBUG = .build/debug/runner
RUNNER_RELEASE = .build/release/runner

.PHONY: run test build release bench clean

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release --product runner

# The main job: the LIB paper's study on the authors' five checkpoints (see README.md).
run: release
	$(RUNNER_RELEASE) run pipelines/modadd-reference.json -j 2

# Tests run optimised (the numeric checks against the reference are 10-50x slower in debug);
# -enable-testing keeps @testable imports working in release.
TEST_FLAGS = -c release -Xswiftc -enable-testing

test:
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	$(SWIFT) test $(TEST_FLAGS) --skip-build

bench: release
	$(SWIFT) build -c release --product runner-bench
	.build/release/runner-bench --runner $(RUNNER_RELEASE)

clean:
	rm -rf .build results/*/ .runner
