# Makefile: tangle the chapters into a kernel, weave them into a book.
#
# Everything is built under build/ from chapters/*.nw; edit the chapters,
# never build/.  `make help` lists the targets.

CPUS    ?= 3
MEM     ?= 128M
CMDLINE ?=

CHAPTERS := $(sort $(wildcard chapters/*.nw))
TOOLS    := book/tools
SRC      := build/src
STAMPS   := build/stamps
DEPS     := build/deps.stamp

.DEFAULT_GOAL := all
.PHONY: all help deps doctor tangle check kernel qemu qemu-gdb gdb test \
        test-full pdf html book test-book figures figure-pdfs figure-pdfs-serially bench hosttests grade book-instructor \
        check-exercises clean FORCE

all: kernel

help:
	@echo "make qemu      build the kernel and boot it (CPUS=$(CPUS); Ctrl-a x quits)"
	@echo "make test      check the book, build everything, run all tests"
	@echo "make test-full the long tests too, and check-exercises"
	@echo "make grade     grade the exercises (EX=ID, CH=NN, GRADEFLAGS=TEXT)"
	@echo "make book-instructor  the book with every solution after its exercise"
	@echo "make check-exercises  graders fail on the student tree, pass on the solved one"
	@echo "make book      the PDF (build/book/book.pdf) and HTML (build/book/html/)"
	@echo "make pdf | html  one of the two"
	@echo "make test-book render book pages in Chromium, check every link"
	@echo "make bench     time make book, and the kernel's operations (BENCH=book|kernel)"
	@echo "make qemu-gdb  QEMU waiting for gdb; then 'make gdb' in another window"
	@echo "make tangle    write every file the chapters define to build/src/"
	@echo "make check     chunk consistency, -Werror build, book references"
	@echo "make deps      install the Debian packages (as root) or say which"
	@echo "make doctor    print tool versions and what to fix"
	@echo "make clean     remove build/"

# ---------------------------------------------------------------- tools
# Any target that needs a tool depends on $(DEPS), so on a fresh Debian
# machine `make qemu` or `make test` installs what is missing (as root).
deps:
	@$(TOOLS)/deps
	@mkdir -p build && touch $(DEPS)

doctor:
	@$(TOOLS)/deps --doctor

$(DEPS): $(TOOLS)/deps
	@$(TOOLS)/deps
	@mkdir -p build && touch $@

# ---------------------------------------------------------------- tangle
# tangle.mk maps each tangled file to the chapters that feed it.  It is
# regenerated on every run (cheaply) and replaced only when it changes,
# so it can never go stale; make restarts when it does change.
ifeq ($(filter deps doctor clean help,$(MAKECMDGOALS)),)
include tangle.mk
endif

tangle.mk: FORCE | $(DEPS)
	@$(TOOLS)/mktangle --stamps $(STAMPS) $@ $(CHAPTERS)

TANGLED_SRC    := $(addprefix $(SRC)/,$(TANGLED))
TANGLED_STAMPS := $(addprefix $(STAMPS)/,$(addsuffix .stamp,$(TANGLED)))

# A file's stamp is newer than its chapters once the file has been
# tangled; the file itself changes only when its content does.
$(TANGLED_STAMPS): $(STAMPS)/%.stamp: $(TOOLS)/tangle
	@mkdir -p $(@D)
	@$(TOOLS)/tangle $* $(filter %.nw,$^)
	@touch $@

$(TANGLED_SRC): $(SRC)/%: $(STAMPS)/%.stamp ;

tangle: $(TANGLED_SRC)

# ---------------------------------------------------------------- kernel
CROSS   := riscv64-unknown-elf-
CC      := $(CROSS)gcc
LD      := $(CROSS)ld
OBJDUMP := $(CROSS)objdump
NM      := $(CROSS)nm

KCFLAGS := -Wall -Werror -O2 -gdwarf-4 -fno-omit-frame-pointer \
           -ffreestanding -fno-common -nostdlib -mcmodel=medany -mno-relax \
           -fno-stack-protector -fno-pie -no-pie -march=rv64gc -mabi=lp64d \
           -I$(SRC) -MMD -MP

KSRCS  := $(filter kernel/%.c kernel/%.S,$(TANGLED))
KOBJS  := $(addprefix build/,$(addsuffix .o,$(basename $(KSRCS))))
KERNEL := build/kernel/kernel

# Every object waits until every file is tangled (its headers may be
# among them); after the first build the .d files name the real
# dependencies.
build/kernel/%.o: $(SRC)/kernel/%.c | $(TANGLED_SRC)
	@mkdir -p $(@D)
	$(CC) $(KCFLAGS) -c -o $@ $<

build/kernel/%.o: $(SRC)/kernel/%.S | $(TANGLED_SRC)
	@mkdir -p $(@D)
	$(CC) $(KCFLAGS) -c -o $@ $<

$(KERNEL): $(KOBJS) $(SRC)/kernel/kernel.ld
	$(LD) -z max-page-size=4096 -T $(SRC)/kernel/kernel.ld -o $@ $(KOBJS)
	$(OBJDUMP) -S $@ > build/kernel/kernel.asm
	$(NM) -n $@ > build/kernel/kernel.sym

kernel: $(KERNEL)

-include $(KOBJS:.o=.d)

# ---------------------------------------------------------------- host tests
# Kernel modules with no hardware in them also compile for the host: a
# tangled hosttest/NAME.c includes the module's .c file and tests it, and
# is built with AddressSanitizer and UndefinedBehaviorSanitizer.
HOSTCC     := gcc
HOSTCFLAGS := -Wall -Werror -O1 -g -DHOST -fsanitize=address,undefined \
              -fno-omit-frame-pointer -fno-sanitize-recover=all -I$(SRC) -MMD -MP
HOSTTESTS  := $(addprefix build/,$(basename $(filter hosttest/%.c,$(TANGLED))))

build/hosttest/%: $(SRC)/hosttest/%.c | $(TANGLED_SRC)
	@mkdir -p $(@D)
	$(HOSTCC) $(HOSTCFLAGS) -o $@ $<

hosttests: $(HOSTTESTS)

-include $(addsuffix .d,$(HOSTTESTS))

# ---------------------------------------------------------------- K1: device tree, symbols
# Section owned by chapters 03 (device tree) and 04 (printf); see there.
#
# Chapter 03: the host test of the device-tree reader parses QEMU's real
# tree, which QEMU dumps at build time (any file will do as -kernel; QEMU
# only refuses -append without one).
build/hosttest-data/virt.dtb: | $(DEPS)
	@mkdir -p $(@D)
	printf 'x' > $(@D)/dummy-kernel
	$(QEMU) -machine virt,dumpdtb=$@ -smp 4 -m 256M -bios none -nographic \
	  -kernel $(@D)/dummy-kernel \
	  -append "loglevel=debug ktest=devtree note=x=y" >/dev/null

build/hosttest/fdt: build/hosttest-data/virt.dtb
hosttests: build/hosttest-data/virt.dtb

# Chapter 04: the kernel symbolizes its own backtraces from a table of
# functions and chapter lines.  Pass 1 links the kernel with an empty
# table; tools/mksymtab.py reads its symbols and DWARF line table and
# writes the real table; the ordinary link above then links it in last,
# in .ksymtab after all code and data, so no other address moves; the
# verify step compares the two links' symbols and fails the build if any
# address differs.
KSYMTAB := $(SRC)/tools/mksymtab.py
KPASS1  := build/kernel/kernel.pass1
KOBJS0  := $(KOBJS)
KOBJS   += build/kernel/ksymtab.o
$(KERNEL): build/kernel/ksymtab.o

build/kernel/ksymtab0.S: $(KSYMTAB)
	@mkdir -p $(@D)
	python3 $(KSYMTAB) empty > $@.tmp && mv $@.tmp $@

$(KPASS1): $(KOBJS0) build/kernel/ksymtab0.o $(SRC)/kernel/kernel.ld
	$(LD) -z max-page-size=4096 -T $(SRC)/kernel/kernel.ld -o $@ $(KOBJS0) \
	  build/kernel/ksymtab0.o

build/kernel/ksymtab.S: $(KPASS1) $(KSYMTAB)
	python3 $(KSYMTAB) table $(NM) $(OBJDUMP) $(KPASS1) > $@.tmp && mv $@.tmp $@

build/kernel/ksymtab.o: build/kernel/ksymtab.S
	$(CC) $(KCFLAGS) -c -o $@ $<

build/kernel/ksymtab0.o: build/kernel/ksymtab0.S
	$(CC) $(KCFLAGS) -c -o $@ $<

build/kernel/ksymtab.ok: $(KERNEL) $(KPASS1) $(KSYMTAB)
	python3 $(KSYMTAB) verify $(NM) $(KPASS1) $(KERNEL) || { rm -f $(KERNEL); exit 1; }
	@touch $@

kernel qemu qemu-gdb: build/kernel/ksymtab.ok

# ---------------------------------------------------------------- run
QEMU     := qemu-system-riscv64
QEMUOPTS  = -machine virt -bios none -kernel $(KERNEL) -m $(MEM) \
            -smp $(CPUS) -nographic $(if $(CMDLINE),-append "$(CMDLINE)") \
            -global virtio-mmio.force-legacy=false \
            -drive file=build/fs.img,if=none,format=raw,id=x0 \
            -device virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0 \
            -device virtio-rng-device,bus=virtio-mmio-bus.1
GDBPORT  := $(shell expr `id -u` % 5000 + 25000)

qemu: $(KERNEL) build/fs.img
	$(QEMU) $(QEMUOPTS)

.gdbinit: FORCE
	@printf '%s\n' 'set confirm off' 'set architecture riscv:rv64' \
	  'file $(KERNEL)' 'target remote 127.0.0.1:$(GDBPORT)' \
	  'break main' 'echo type c to run to main\n' > $@

qemu-gdb: $(KERNEL) .gdbinit build/fs.img
	@echo "*** now run 'make gdb' (gdb-multiarch) in another window" 1>&2
	$(QEMU) $(QEMUOPTS) -S -gdb tcp::$(GDBPORT)

gdb: .gdbinit
	gdb-multiarch -q -nx -x .gdbinit

# ---------------------------------------------------------------- book
FIGSRC := $(wildcard figures/*.tex)
FIGPDF := $(patsubst figures/%.tex,build/figures/%.pdf,$(FIGSRC))
FIGSVG := $(FIGPDF:.pdf=.svg)

build/figures/%.pdf: figures/%.tex | $(DEPS)
	@mkdir -p $(@D)
	cd $(@D) && pdflatex -interaction=batchmode -halt-on-error ../../$< >/dev/null \
	  || { tail -20 $*.log; exit 1; }

build/figures/%.svg: build/figures/%.pdf
	pdftocairo -svg $< $@

figures: $(FIGPDF) $(FIGSVG)

BOOKTEX := book/book.tex book/preamble.tex book/book.bib

# noweave writes the chapters as one LaTeX file, with chunk numbers,
# cross-references and both indexes computed over the whole book.
build/book/chapters.tex: $(CHAPTERS) | $(DEPS)
	@mkdir -p $(@D)
	noweave -n -index -latex $(CHAPTERS) > $@.tmp && mv $@.tmp $@

# Three LaTeX passes (book/tools/pdfbook says why): the first only
# numbers things and so runs while the figures are being drawn.
build/book/numbering.stamp: build/book/chapters.tex $(BOOKTEX) $(TOOLS)/pdfbook \
                            $(wildcard book/edition.tex)
	cp $(BOOKTEX) $(wildcard book/edition.tex) build/book/
	cd build/book && ../../$(TOOLS)/pdfbook numbering
	@touch $@

build/book/book.pdf: build/book/numbering.stamp $(FIGPDF)
	cd build/book && ../../$(TOOLS)/pdfbook final
	@$(TOOLS)/texcheck build/book/book.log

pdf: build/book/book.pdf

build/book/html/index.html: $(CHAPTERS) $(TOOLS)/nw2html $(wildcard book/html/*) book/preamble*.tex \
                            book/book.bib $(FIGSVG) | $(DEPS)
	$(TOOLS)/nw2html -o build/book/html --bib book/book.bib \
	  $(if $(wildcard book/edition.tex),--instructor) \
	  --figures build/figures $(CHAPTERS)

html: build/book/html/index.html

# The PDF's three LaTeX passes are the long pole.  The first (numbering)
# needs no figures, so it runs while the figures are drawn; the last two
# run while the HTML is written.
# (make -j2 alone would draw every figure first, in both slots: one slot
# draws them one by one instead.)
book:
	@$(MAKE) --no-print-directory -j2 build/book/numbering.stamp figure-pdfs-serially
	@$(MAKE) --no-print-directory -j2 pdf html

figure-pdfs: $(FIGPDF)
figure-pdfs-serially:
	@MAKEFLAGS= $(MAKE) --no-print-directory figure-pdfs

# Render chosen pages in a real browser (Debian's Chromium, installed on
# demand) and check every internal link and anchor of the HTML book.
test-book: book
	@$(TOOLS)/deps --browser
	@$(TOOLS)/screenshots build/book/html build/book/screenshots
	@$(TOOLS)/linkcheck build/book/html

# ---------------------------------------------------------------- benchmarks
# Benchmarks measure and report; unlike tests they never fail because a
# host is slow (chapter 28, Guide 4).  BENCH=book or BENCH=kernel runs one.
bench: | $(DEPS)
	@$(TOOLS)/bench $(BENCH)

# ---------------------------------------------------------------- tests
check: tangle.mk
	@$(TOOLS)/nwcheck tangle.mk $(CHAPTERS)
	@$(MAKE) --no-print-directory kernel hosttests fsimg
	@$(MAKE) --no-print-directory book
	@$(TOOLS)/linkcheck build/book/html

test: $(DEPS)
	@$(TOOLS)/runtests

# The long runs: every test with the ones that take minutes switched on
# (the 33 MiB file of fstests, the full usertests and the stress run),
# then the proof of the exercise graders.
test-full: $(DEPS)
	@FSTESTS_BIG=1 USERTESTS_FULL=1 $(TOOLS)/runtests
	@$(MAKE) --no-print-directory check-exercises

# ---------------------------------------------------------------- exercises
# `make grade` runs the graders of the chapters' exercises (see the
# testing chapter): EX=ID one exercise, CH=NN one chapter, GRADEFLAGS=TEXT
# the checks whose titles contain TEXT, RESULTS=FILE the scores as JSON.
GRADEARGS = $(if $(EX),--ex $(EX)) $(if $(CH),--ch $(CH)) \
            $(if $(GRADEFLAGS),--title "$(GRADEFLAGS)") $(if $(RESULTS),--results $(RESULTS))

grade: kernel hosttests fsimg
	@$(TOOLS)/grade $(GRADEARGS)

# The two editions made from this tree (book/tools/edition): the student
# tree to hand out, and the instructor tree with every solution applied.
build/student build/instructor: FORCE | $(DEPS)
	@$(TOOLS)/edition $(notdir $@) $@

book-instructor: build/instructor
	@$(MAKE) --no-print-directory -C build/instructor book
	@mkdir -p build/book
	cp build/instructor/build/book/book.pdf build/book/book-instructor.pdf
	rm -rf build/book/html-instructor
	cp -r build/instructor/build/book/html build/book/html-instructor

# The reference appendix's tables are computed from the tangled headers.
REFTABLES := $(addprefix build/book/reference-,errors.tex trapframe.tex \
             trapframe-size.tex memlayout.tex params.tex)
$(REFTABLES) &: $(TOOLS)/mkreference $(addprefix $(SRC)/kernel/,errno.h trap.h \
              memlayout.h param.h types.h riscv.h)
	@mkdir -p build/book
	$(TOOLS)/mkreference $(SRC) build/book

build/book/numbering.stamp build/book/html/index.html: $(REFTABLES)

# The instructors' appendix lists the exercises from a generated table.
build/book/exercise-table.tex: $(CHAPTERS) $(TOOLS)/exercisetable
	@mkdir -p $(@D)
	$(TOOLS)/exercisetable $(CHAPTERS) > $@.tmp && mv $@.tmp $@

build/book/numbering.stamp build/book/html/index.html: build/book/exercise-table.tex

# Every grader fails on the student tree and passes on the instructor
# tree, and no solution text appears in anything the student tree builds.
check-exercises: build/student build/instructor
	@$(TOOLS)/checkexercises build/student build/instructor

clean:
	rm -rf build .gdbinit

FORCE:

# ---------------------------------------------------------------- system calls and the first user program
# Owned by chapters 10-proc.nw and 13-syscall.nw (writer K4).
# tools/gensyscalls.py turns the system-call table (kernel/syscall.tbl)
# into kernel/syscall.h, kernel/systable.h, user/usys.S and
# user/usyscalls.h under build/src, and the book's reference table
# build/book/syscall-table.tex.  The embedded first user program
# (user/initcode.c) is compiled freestanding, linked at address 0 with
# the stubs and kernel/errstr.c, flattened with objcopy and pulled into
# the kernel by the .incbin in kernel/initbin.S.
OBJCOPY  := $(CROSS)objcopy
SYSGEN   := $(SRC)/kernel/syscall.h $(SRC)/kernel/systable.h \
            $(SRC)/user/usys.S $(SRC)/user/usyscalls.h build/book/syscall-table.tex

# A missing output (say, after rm -rf build/book) makes the stamp stale.
$(STAMPS)/syscalls.gen: $(SRC)/tools/gensyscalls.py $(SRC)/kernel/syscall.tbl \
                        $(if $(filter-out $(wildcard $(SYSGEN)),$(SYSGEN)),FORCE)
	@mkdir -p $(@D) build/book
	python3 $(SRC)/tools/gensyscalls.py $(SRC)/kernel/syscall.tbl $(SRC) \
	  build/book/syscall-table.tex
	@touch $@

$(SYSGEN): $(STAMPS)/syscalls.gen ;

$(KOBJS) $(HOSTTESTS): | $(SYSGEN)
build/book/numbering.stamp build/book/html/index.html: build/book/syscall-table.tex
# pandoc, run by nw2html from the project root, looks for \input files
# along TEXINPUTS, so the appendix's \input{syscall-table} finds the table.
build/book/html/index.html: export TEXINPUTS := build/book:$(TEXINPUTS)

UCFLAGS := -Wall -Werror -O2 -ffreestanding -fno-builtin -nostdlib \
           -fno-stack-protector -fno-pie -no-pie -mcmodel=medany -mno-relax \
           -march=rv64gc -mabi=lp64d -fno-asynchronous-unwind-tables -I$(SRC)

build/initcode/initcode.o: $(SRC)/user/initcode.c $(SRC)/user/user.h $(SRC)/kernel/errno.h \
                           $(SRC)/user/usyscalls.h | $(TANGLED_SRC)
	@mkdir -p $(@D)
	$(CC) $(UCFLAGS) -c -o $@ $<

# The stubs and the error messages are the user programs' own objects
# (built by the rules of the user-programs section below).
INITOBJS := build/initcode/initcode.o build/user/usys.o build/user/errstr.o
build/initcode/initcode.elf: $(INITOBJS) $(SRC)/user/initcode.ld
	$(LD) -T $(SRC)/user/initcode.ld -o $@ $(INITOBJS)

build/initcode/initcode.bin: build/initcode/initcode.elf
	$(OBJCOPY) -O binary $< $@

build/kernel/initbin.o: build/initcode/initcode.bin

# ---------------------------------------------------------------- user programs and the file-system image
# Owned by chapters 21-mkfs.nw and 22-shell.nw (writer S5).
# Convention for tangled user code:
#   user/lib/*.c     the user library, linked into every program;
#   user/NAME.c      a program, linked at address 0 with user/user.ld and
#                    installed in the image as /NAME;
#   user/initcode.c  not a program: chapter 10's embedded first process;
#   etc/NAME         a text file installed in the image as /etc/NAME.
# Every program is linked with the whole library, the system-call stubs
# (user/usys.S) and kernel/errstr.c.  mkfs and fsck are host programs;
# `make fsimg` builds build/fs.img, which `make qemu` and every test boot.
ULIBSRC  := $(filter user/lib/%.c,$(TANGLED))
UPROGSRC := $(filter-out user/lib/% user/initcode.c,$(filter user/%.c,$(TANGLED)))
ULIBOBJS := $(addprefix build/,$(ULIBSRC:.c=.o)) build/user/usys.o build/user/errstr.o
UPROGS   := $(addprefix build/,$(basename $(UPROGSRC)))
ETCFILES := $(filter etc/%,$(TANGLED))
MKFS     := build/mkfs/mkfs
FSCK     := build/mkfs/fsck
.PHONY: fsimg uprogs fsck

build/user/%.o: $(SRC)/user/%.c | $(TANGLED_SRC) $(SYSGEN)
	@mkdir -p $(@D)
	$(CC) $(UCFLAGS) -MMD -MP -c -o $@ $<

build/user/usys.o: $(SRC)/user/usys.S $(SRC)/kernel/syscall.h
	@mkdir -p $(@D)
	$(CC) $(UCFLAGS) -c -o $@ $<

build/user/errstr.o: $(SRC)/kernel/errstr.c $(SRC)/kernel/errno.h
	@mkdir -p $(@D)
	$(CC) $(UCFLAGS) -c -o $@ $<

$(UPROGS): build/user/%: build/user/%.o $(ULIBOBJS) $(SRC)/user/user.ld
	$(LD) -z max-page-size=4096 -T $(SRC)/user/user.ld -o $@ $< $(ULIBOBJS)

uprogs: $(UPROGS)

-include $(patsubst %,build/%.d,$(basename $(ULIBSRC) $(UPROGSRC)))

build/mkfs/%: $(SRC)/mkfs/%.c | $(TANGLED_SRC)
	@mkdir -p $(@D)
	$(HOSTCC) $(HOSTCFLAGS) -o $@ $<

-include build/mkfs/mkfs.d build/mkfs/fsck.d

# The image is written under a temporary name and renamed, so that a
# failed mkfs never leaves a half-made build/fs.img behind.
build/fs.img: $(MKFS) $(FSCK) $(UPROGS) $(addprefix $(SRC)/,$(ETCFILES))
	$(MKFS) $@.tmp $(UPROGS) $(foreach f,$(ETCFILES),/$(f)=$(SRC)/$(f))
	$(FSCK) $@.tmp
	mv $@.tmp $@

fsimg: build/fs.img

fsck: $(FSCK)
