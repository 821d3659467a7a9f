"""gradelib: grade the exercises, in the manner of the MIT xv6 labs.

A grader is a Python file tangled from the chapter whose exercise it
grades (build/src/grade/ID.py, ID being the exercise's id, such as
syscall-getcpu).  It registers one or more checks:

    from gradelib import grader
    @grader("syscall-getcpu", "getcpu returns each hart's id", points=5)
    def _(t):
        m = t.boot(cpus=4, args="ktest=grade_getcpu")   # as in harness.py
        m.expect(r"ktest: 1 passed, 0 failed")
        t.equal(m.wait_exit(), 0, "QEMU's exit status")

A check receives the same Test object as the book's tests (harness.py),
plus t.rand, a random.Random seeded for this run (the seed is printed
on failure, so a failing run can be repeated with GRADE_SEED=N), and
t.hint(text), which adds a sentence for the student to the failure.
"""
import os, random, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Test, TestFailure, ROOT, BUILD

GRADERS = []            # dicts: ex, title, points, fn, timeout


def grader(ex, title, points=1, timeout=180):
    """Decorator: register a check of exercise `ex` worth `points`."""
    def register(fn):
        GRADERS.append(dict(ex=ex, title=title, points=points, fn=fn,
                            timeout=timeout))
        return fn
    return register


class GradeTest(Test):
    """A Test with a seeded random source and hints for the student."""
    def __init__(self, name, slug, testdir, seed):
        super().__init__(name, slug, testdir)
        self.seed = seed
        self.rand = random.Random(seed)
        self.hints = []

    def hint(self, text):
        self.hints.append(text)
