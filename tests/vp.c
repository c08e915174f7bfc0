/*
 * Virtual processors a host can stop: VmidlCancelRunVirtualProcessor
 * wherever the guest is, VmidlDeletePartition with running VPs, a vCPU
 * thread killed inside its run, and two VPs running at once.
 *
 * Copyright 2026 The vmidl authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define COBJMACROS
#include "wine/test.h"
#include "objbase.h"
#include "vmfiov.h"
#include "vmidl_test.h"

#define BAR0        GUEST_BAR_BASE
#define BAR0_VP1    (GUEST_BAR_BASE + 0x1000000)
#define FLAG        (GUEST_DATA + 0x100)        /* what spinning guests wait for */
#define SCRATCH     (GUEST_DATA + 0x200)
#define RUNNING     (GUEST_DATA + 0x300)        /* one qword per VP: set once it spins */
#define ACKS        (GUEST_DATA + 0x400)        /* one qword per VP */

static const GUID instance0 = {0x76700000, 0x1, 0x2, {0x76, 0x70, 0, 0, 0, 0, 0, 0}};
static const GUID instance1 = {0x76700001, 0x1, 0x2, {0x76, 0x70, 0, 0, 0, 0, 0, 1}};

/* A run on its own thread. */
struct vp_thread
{
    struct guest *guest;
    UINT32 vp;
    HANDLE thread;
    HRESULT hr;
    VMIDL_RUN_VP_EXIT_CONTEXT exit;
};

static DWORD WINAPI vp_thread_proc(void *arg)
{
    struct vp_thread *run = arg;
    run->hr = pVmidlRunVirtualProcessor(run->guest->partition, run->vp, &run->exit);
    return 0;
}

static void start_run(struct vp_thread *run, struct guest *guest, UINT32 vp)
{
    memset(run, 0, sizeof(*run));
    run->guest = guest;
    run->vp = vp;
    run->hr = E_PENDING;
    run->thread = CreateThread(NULL, 0, vp_thread_proc, run, 0, NULL);
    ok(!!run->thread, "CreateThread failed, error %lu\n", GetLastError());
}

/* The run has returned (a hang fails the test instead of blocking it). */
#define finish_run(a) finish_run_(__FILE__, __LINE__, a)
static BOOL finish_run_(const char *file, int line, struct vp_thread *run)
{
    DWORD ret = WaitForSingleObject(run->thread, TEST_WAIT_MS);

    ok_(file, line)(ret == WAIT_OBJECT_0, "the run did not return: %#lx\n", ret);
    if (ret) return FALSE;
    CloseHandle(run->thread);
    return TRUE;
}

#define ok_exit(a, b) ok_exit_(__FILE__, __LINE__, a, b)
static void ok_exit_(const char *file, int line, const struct vp_thread *run, UINT32 reason)
{
    ok_(file, line)(run->hr == S_OK && run->exit.ExitReason == reason, "got hr %#lx, exit %u, expected %u\n",
            run->hr, run->exit.ExitReason, reason);
}

/* Ops that say they run (RUNNING), spin until FLAG is value, then report
 * done; returns the index of the wait. */
static unsigned int spin_ops(struct guest *guest, UINT64 value)
{
    unsigned int wait;

    guest_reset_ops(guest);
    guest_add_op(guest, GUEST_OP_WRITE, 8, RUNNING, 1);
    wait = guest_add_op(guest, GUEST_OP_WAIT, ~0u, FLAG, value);
    *(volatile UINT64 *)guest_ram(guest, FLAG) = 0;
    *(volatile UINT64 *)guest_ram(guest, RUNNING) = 0;
    return wait;
}

/* VP 1 runs a copy of VP 0's spin_ops, which says it runs in a qword of its own. */
static void copy_spin_ops_to_vp1(struct guest *guest)
{
    struct guest_op *ops = guest_ram(guest, GUEST_VP1_OPS);

    memcpy(ops, guest->ops, (guest->op_count + 1) * sizeof(*ops));
    ops[0].address = RUNNING + 8;
    *(volatile UINT64 *)guest_ram(guest, RUNNING + 8) = 0;
}

/* Until VPs 0 to vp_count - 1 are in the guest, spinning: their runs are
 * inside KVM, however long the machine took to start them. */
#define let_guest_run(a, b) let_guest_run_(__FILE__, __LINE__, a, b)
static void let_guest_run_(const char *file, int line, struct guest *guest, unsigned int vp_count)
{
    DWORD start = GetTickCount();
    unsigned int vp = 0;

    while (vp < vp_count && GetTickCount() - start < TEST_WAIT_MS)
    {
        if (*(volatile UINT64 *)guest_ram(guest, RUNNING + vp * 8)) vp++;
        else Sleep(1);
    }
    ok_(file, line)(vp == vp_count, "VP %u not in the guest after %lu ms\n", vp, GetTickCount() - start);
}

static BOOL exit_is_done(const VMIDL_RUN_VP_EXIT_CONTEXT *exit, unsigned int op_count)
{
    return exit->ExitReason == VmidlRunVpExitReasonX64IoPortAccess && exit->Address == GUEST_PORT_DONE
            && exit->Data == op_count;
}

static void test_cancel_spinning(void)
{
    VMIDL_RUN_VP_EXIT_CONTEXT exit;
    struct vp_thread run;
    struct guest guest;
    unsigned int wait;
    HRESULT hr;

    if (!create_guest(&guest)) return;
    wait = spin_ops(&guest, 1);
    ok(guest_start(&guest) == S_OK, "cannot start the guest\n");

    start_run(&run, &guest, 0);
    let_guest_run(&guest, 1);
    hr = pVmidlCancelRunVirtualProcessor(guest.partition, 0, 0);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    if (finish_run(&run)) ok_exit(&run, VmidlRunVpExitReasonCanceled);
    ok(guest.ops[wait].result == 0xdeadbeefdeadbeefull, "the guest got past its wait: %#I64x\n", guest.ops[wait].result);

    /* Running again goes on where the guest stopped: no new registers. */
    *(volatile UINT64 *)guest_ram(&guest, FLAG) = 1;
    hr = pVmidlRunVirtualProcessor(guest.partition, 0, &exit);
    ok(hr == S_OK && exit_is_done(&exit, guest.op_count), "got hr %#lx, exit %u at %#I64x\n", hr,
            exit.ExitReason, exit.Address);
    ok(guest.ops[wait].result == 1, "wait got %#I64x\n", guest.ops[wait].result);

    guest_destroy(&guest);
}

static void test_cancel_before_run(void)
{
    VMIDL_RUN_VP_EXIT_CONTEXT exit;
    struct guest guest;
    HRESULT hr;

    if (!create_guest(&guest)) return;
    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_WRITE, 8, SCRATCH, 0x5555);
    *(UINT64 *)guest_ram(&guest, SCRATCH) = 0;
    ok(guest_start(&guest) == S_OK, "cannot start the guest\n");

    /* A cancel aimed at a VP that is not running stops its next run at
     * once, before any guest instruction. */
    hr = pVmidlCancelRunVirtualProcessor(guest.partition, 0, 0);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    hr = pVmidlRunVirtualProcessor(guest.partition, 0, &exit);
    ok(hr == S_OK && exit.ExitReason == VmidlRunVpExitReasonCanceled, "got hr %#lx, exit %u\n", hr, exit.ExitReason);
    ok(!*(UINT64 *)guest_ram(&guest, SCRATCH), "the guest ran\n");

    /* One cancel stops one run. */
    hr = pVmidlRunVirtualProcessor(guest.partition, 0, &exit);
    ok(hr == S_OK && exit_is_done(&exit, guest.op_count), "got hr %#lx, exit %u\n", hr, exit.ExitReason);
    ok(*(UINT64 *)guest_ram(&guest, SCRATCH) == 0x5555, "the guest did not run\n");

    /* Bad calls. */
    hr = pVmidlCancelRunVirtualProcessor(guest.partition, 0, 1);
    ok(hr == E_INVALIDARG, "flags 1: got hr %#lx\n", hr);
    hr = pVmidlCancelRunVirtualProcessor(guest.partition, 1, 0);
    ok(hr == E_INVALIDARG, "VP 1 of 1: got hr %#lx\n", hr);
    hr = pVmidlCancelRunVirtualProcessor(NULL, 0, 0);
    ok(hr == E_INVALIDARG, "NULL partition: got hr %#lx\n", hr);
    /* Nothing of those is pending: the next run goes through. */
    ok(guest_run(&guest) == S_OK, "guest run failed, exit %u\n", guest.last_exit.ExitReason);

    guest_destroy(&guest);
}

/* An emulator that holds up its first access until told to go on. */
struct held_emulator
{
    HANDLE entered, resume;
    LONG calls;
    VMIDL_PARTITION_HANDLE delete_partition;    /* deleted from inside the callback */
    HRESULT delete_hr;
};

static HRESULT CALLBACK held_emulator_callback(void *context, UINT32 bar, UINT64 offset, UINT32 size,
        BOOL is_write, UINT64 *data)
{
    struct held_emulator *emulator = context;

    if (!is_write) *data = guest_mmio_read_value(bar, offset, size);
    if (emulator->delete_partition) emulator->delete_hr = pVmidlDeletePartition(emulator->delete_partition);
    if (InterlockedIncrement(&emulator->calls) == 1 && emulator->entered)
    {
        SetEvent(emulator->entered);
        WaitForSingleObject(emulator->resume, TEST_WAIT_MS);
    }
    return S_OK;
}

static IUnknown *add_held_device(struct guest *guest, struct held_emulator *emulator, const GUID *instance,
        UINT64 base)
{
    VMIDL_FLEXIO_DEVICE_DESC desc;
    IUnknown *device = NULL;
    HRESULT hr;

    guest_device_desc(&desc, instance, NULL, base);
    desc.MmioCallback = held_emulator_callback;
    desc.MmioCallbackContext = emulator;
    hr = pVmidlAddFlexIoDevice(guest->partition, &desc, &device);
    ok(hr == S_OK, "cannot add the device, hr %#lx\n", hr);
    return device;
}

static void test_cancel_in_exit(void)
{
    struct held_emulator emulator = {0};
    VMIDL_RUN_VP_EXIT_CONTEXT exit;
    VMIDL_VP_REGISTERS regs;
    unsigned int read, write;
    struct vp_thread run;
    struct guest guest;
    IUnknown *device;
    HRESULT hr;

    if (!create_guest(&guest)) return;
    emulator.entered = CreateEventA(NULL, TRUE, FALSE, NULL);
    emulator.resume = CreateEventA(NULL, TRUE, FALSE, NULL);
    device = add_held_device(&guest, &emulator, &instance0, BAR0);
    guest_reset_ops(&guest);
    read = guest_add_op(&guest, GUEST_OP_READ, 4, BAR0 + 0x7010, 0);
    write = guest_add_op(&guest, GUEST_OP_WRITE, 8, SCRATCH, 0x77);
    *(UINT64 *)guest_ram(&guest, SCRATCH) = 0;
    ok(guest_start(&guest) == S_OK, "cannot start the guest\n");

    /* Canceled while its thread is in the MMIO callback: the load still
     * completes with the emulator's answer, then the run stops. */
    start_run(&run, &guest, 0);
    ok(!WaitForSingleObject(emulator.entered, TEST_WAIT_MS), "the callback was not called\n");
    hr = pVmidlCancelRunVirtualProcessor(guest.partition, 0, 0);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    SetEvent(emulator.resume);
    if (finish_run(&run)) ok_exit(&run, VmidlRunVpExitReasonCanceled);
    hr = pVmidlGetVirtualProcessorRegisters(guest.partition, 0, &regs);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(regs.Gpr[0] == guest_mmio_read_value(FIOV_BAR0, 0x7010, 4), "rax %#I64x\n", regs.Gpr[0]);
    ok(!*(UINT64 *)guest_ram(&guest, SCRATCH), "the guest went on after the cancel\n");

    /* The load is not made again. */
    hr = pVmidlRunVirtualProcessor(guest.partition, 0, &exit);
    ok(hr == S_OK && exit_is_done(&exit, guest.op_count), "got hr %#lx, exit %u\n", hr, exit.ExitReason);
    ok(guest.ops[read].result == guest_mmio_read_value(FIOV_BAR0, 0x7010, 4), "read got %#I64x\n",
            guest.ops[read].result);
    ok(emulator.calls == 1, "%ld calls\n", emulator.calls);
    ok(*(UINT64 *)guest_ram(&guest, SCRATCH) == 0x77, "the write op %u did not run\n", write);

    IUnknown_Release(device);
    CloseHandle(emulator.entered);
    CloseHandle(emulator.resume);
    guest_destroy(&guest);
}

/* An emulator that cancels the run from inside each of its callbacks, and
 * answers every read by its offset. */
struct canceling_emulator
{
    VMIDL_PARTITION_HANDLE partition;
    LONG calls;
};

static HRESULT CALLBACK canceling_emulator_callback(void *context, UINT32 bar, UINT64 offset, UINT32 size,
        BOOL is_write, UINT64 *data)
{
    struct canceling_emulator *emulator = context;

    if (!is_write) *data = guest_mmio_read_value(bar, offset, size);
    InterlockedIncrement(&emulator->calls);
    pVmidlCancelRunVirtualProcessor(emulator->partition, 0, 0);
    return S_OK;
}

/* mov rsi, BAR0 + 0x7000; mov rdi, DEST; mov rcx, 64; rep movsq; ret */
#define MOVS_COUNT 64
#define MOVS_DEST  (GUEST_DATA + 0x1000)
static void write_rep_movs(struct guest *guest, UINT64 code)
{
    BYTE *p = guest_ram(guest, code);
    UINT64 source = BAR0 + 0x7000, dest = MOVS_DEST;

    *p++ = 0x48; *p++ = 0xbe; memcpy(p, &source, 8); p += 8;
    *p++ = 0x48; *p++ = 0xbf; memcpy(p, &dest, 8); p += 8;
    *p++ = 0x48; *p++ = 0xc7; *p++ = 0xc1; *p++ = MOVS_COUNT; *p++ = 0; *p++ = 0; *p++ = 0;
    *p++ = 0xf3; *p++ = 0x48; *p++ = 0xa5;
    *p++ = 0xc3;
}

/* A string instruction reads MMIO once per element: a cancel that comes
 * during one of those reads completes it, and the instruction's next read
 * still reaches the emulator, however often the host cancels. */
static void test_cancel_string_instruction(void)
{
    struct canceling_emulator emulator = {0};
    VMIDL_FLEXIO_DEVICE_DESC desc;
    VMIDL_RUN_VP_EXIT_CONTEXT exit;
    unsigned int i, canceled = 0, wrong = 0;
    struct guest guest;
    IUnknown *device;
    UINT64 *dest;
    HRESULT hr;

    if (!create_guest(&guest)) return;
    emulator.partition = guest.partition;
    guest_device_desc(&desc, &instance0, NULL, BAR0);
    desc.MmioCallback = canceling_emulator_callback;
    desc.MmioCallbackContext = &emulator;
    hr = pVmidlAddFlexIoDevice(guest.partition, &desc, &device);
    ok(hr == S_OK, "cannot add the device, hr %#lx\n", hr);
    write_rep_movs(&guest, GUEST_DATA + 0x800);
    dest = guest_ram(&guest, MOVS_DEST);
    memset(dest, 0, MOVS_COUNT * sizeof(*dest));
    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_CALL, 0, GUEST_DATA + 0x800, 0);
    ok(guest_start(&guest) == S_OK, "cannot start the guest\n");

    while (SUCCEEDED(hr = pVmidlRunVirtualProcessor(guest.partition, 0, &exit))
            && exit.ExitReason == VmidlRunVpExitReasonCanceled && canceled < 10 * MOVS_COUNT)
        canceled++;
    ok(hr == S_OK && exit_is_done(&exit, guest.op_count), "got hr %#lx, exit %u at %#I64x after %u cancels\n",
            hr, exit.ExitReason, exit.Address, canceled);
    ok(emulator.calls == MOVS_COUNT, "%ld reads for %u elements\n", emulator.calls, MOVS_COUNT);
    for (i = 0; i < MOVS_COUNT; i++)
        if (dest[i] != guest_mmio_read_value(FIOV_BAR0, 0x7000 + i * 8, 8)) wrong++;
    ok(!wrong, "%u of %u elements wrong, the first %#I64x\n", wrong, MOVS_COUNT, dest[0]);
    trace("%u runs canceled\n", canceled);

    IUnknown_Release(device);
    guest_destroy(&guest);
}

/* Threads that cancel whatever partition is current, while another thread
 * creates and deletes partitions, and another maps and unmaps section
 * ranges of a partition of its own, into the holes the deletes leave. */
struct canceler
{
    VMIDL_PARTITION_HANDLE volatile partition;
    LONG volatile stop;
    IVmFiovGuestMmioMappings *mappings;     /* the mapper's */
    unsigned int rounds, dirty;
    unsigned int failed;                    /* rounds whose range could not be created */
    HRESULT first_failure;
};

static DWORD WINAPI canceler_proc(void *arg)
{
    struct canceler *canceler = arg;

    /* Yielding between cancels: where threads take turns (memcheck, one
     * emulated vCPU), four that never block would starve the deleter of
     * the vCPU lock they keep taking. */
    while (!canceler->stop)
    {
        pVmidlCancelRunVirtualProcessor(canceler->partition, 0, 0);
        SwitchToThread();
    }
    return 0;
}

static DWORD WINAPI mapper_proc(void *arg)
{
    struct canceler *canceler = arg;
    unsigned int pages, j;
    HANDLE section;
    BYTE *view;
    HRESULT hr;

    for (canceler->rounds = 0; !canceler->stop; canceler->rounds++)
    {
        pages = 1 + canceler->rounds % 4;
        section = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, pages * 0x1000, NULL);
        view = MapViewOfFile(section, FILE_MAP_READ, 0, 0, 0);
        hr = IVmFiovGuestMmioMappings_CreateSectionBackedMmioRange(canceler->mappings, FIOV_BAR0, 0, pages,
                FiovMmioMappingFlagWriteable, section, 0);
        if (hr != S_OK && !canceler->failed++) canceler->first_failure = hr;
        Sleep(0);
        hr = IVmFiovGuestMmioMappings_DestroySectionBackedMmioRange(canceler->mappings, FIOV_BAR0, 0);
        for (j = 0; j < pages * 0x1000 && !view[j]; j++);
        if (j < pages * 0x1000 && !canceler->dirty++) trace("byte %u of a %u-page section is %#x\n", j, pages, view[j]);
        UnmapViewOfFile(view);
        CloseHandle(section);
    }
    return 0;
}

/* A cancel that took the partition just before its delete must not write
 * into the delete's unmapped kvm_run pages, nor into whatever mapping
 * came there meanwhile: the mapper's section pages must stay zero. */
static void test_cancel_racing_delete(void)
{
    static const GUID instance = {0x76700002, 0x1, 0x2, {0x76, 0x70, 0, 0, 0, 0, 0, 2}};
    struct canceler canceler = {0};
    VMIDL_PARTITION_HANDLE partition;
    VMIDL_FLEXIO_DEVICE_DESC desc;
    HANDLE threads[5];
    struct guest mapper;
    unsigned int i, rounds;
    IUnknown *device;
    GUID runtime_id;
    HRESULT hr;

    if (!create_guest(&mapper)) return;
    guest_device_desc(&desc, &instance, NULL, BAR0);
    hr = pVmidlAddFlexIoDevice(mapper.partition, &desc, &device);
    ok(hr == S_OK, "cannot add the device, hr %#lx\n", hr);
    IUnknown_QueryInterface(device, &IID_IVmFiovGuestMmioMappings, (void **)&canceler.mappings);
    for (i = 0; i < ARRAY_SIZE(threads) - 1; i++) threads[i] = CreateThread(NULL, 0, canceler_proc, &canceler, 0, NULL);
    threads[i] = CreateThread(NULL, 0, mapper_proc, &canceler, 0, NULL);
    for (rounds = 0; rounds < 300; rounds++)
    {
        guest_new_runtime_id(&runtime_id);
        if (FAILED(hr = pVmidlCreatePartition(&runtime_id, 8, &partition))) break;
        canceler.partition = partition;
        Sleep(0);
        hr = pVmidlDeletePartition(partition);
        ok(hr == S_OK, "round %u: cannot delete the partition, hr %#lx\n", rounds, hr);
    }
    ok(rounds == 300, "round %u: cannot create a partition, hr %#lx\n", rounds, hr);
    canceler.stop = TRUE;
    WaitForMultipleObjects(ARRAY_SIZE(threads), threads, TRUE, INFINITE);
    ok(!canceler.failed, "%u of %u ranges could not be created, the first: hr %#lx\n", canceler.failed,
            canceler.rounds, canceler.first_failure);
    ok(!canceler.dirty, "%u of %u sections were written to\n", canceler.dirty, canceler.rounds);
    for (i = 0; i < ARRAY_SIZE(threads); i++) CloseHandle(threads[i]);
    IVmFiovGuestMmioMappings_Release(canceler.mappings);
    IUnknown_Release(device);
    guest_destroy(&mapper);
}

static void test_delete_running(void)
{
    struct held_emulator emulator = {0};
    VMIDL_RUN_VP_EXIT_CONTEXT exit;
    VMIDL_PARTITION_HANDLE partition;
    struct resources baseline;
    struct vp_thread runs[2];
    struct guest guest;
    IUnknown *device;
    HRESULT hr;

    if (!init_resource_counting()) return;
    get_resources(&baseline);
    if (FAILED(hr = guest_create_vps(&guest, &guest_image_interp, 2)))
    {
        ok(0, "cannot create a guest, hr %#lx\n", hr);
        return;
    }
    spin_ops(&guest, 1);
    copy_spin_ops_to_vp1(&guest);
    ok(guest_start(&guest) == S_OK, "cannot start VP 0\n");
    ok(guest_start_vp(&guest, 1, GUEST_VP1_OPS, 0, GUEST_VP1_STACK) == S_OK, "cannot start VP 1\n");

    /* Deleting from inside an MMIO callback of the partition: refused, and
     * nothing changes. */
    device = add_held_device(&guest, &emulator, &instance0, BAR0);
    emulator.delete_partition = guest.partition;
    guest_reset_ops(&guest);
    guest_add_op(&guest, GUEST_OP_READ, 8, BAR0 + 0x7000, 0);
    ok(guest_run(&guest) == S_OK, "guest run failed\n");
    ok(emulator.calls == 1, "%ld calls\n", emulator.calls);
    ok(emulator.delete_hr == HRESULT_FROM_WIN32(ERROR_BUSY), "delete from the callback: got hr %#lx\n",
            emulator.delete_hr);
    emulator.delete_partition = NULL;
    ok(guest_run(&guest) == S_OK, "the partition does not work after a refused delete\n");
    IUnknown_Release(device);

    /* Deleting with both VPs spinning in the guest cancels them and waits
     * for their runs. */
    spin_ops(&guest, 1);
    ok(guest_start(&guest) == S_OK, "cannot start VP 0\n");
    start_run(&runs[0], &guest, 0);
    start_run(&runs[1], &guest, 1);
    let_guest_run(&guest, 2);
    partition = guest.partition;
    hr = pVmidlDeletePartition(partition);
    ok(hr == S_OK, "got hr %#lx\n", hr);
    ok(runs[0].hr == S_OK && runs[1].hr == S_OK, "runs still going after the delete: %#lx, %#lx\n",
            runs[0].hr, runs[1].hr);
    if (finish_run(&runs[0])) ok_exit(&runs[0], VmidlRunVpExitReasonCanceled);
    if (finish_run(&runs[1])) ok_exit(&runs[1], VmidlRunVpExitReasonCanceled);

    /* The handle is gone. */
    hr = pVmidlRunVirtualProcessor(partition, 0, &exit);
    ok(hr == E_HANDLE, "run: got hr %#lx\n", hr);
    hr = pVmidlCancelRunVirtualProcessor(partition, 0, 0);
    ok(hr == E_HANDLE, "cancel: got hr %#lx\n", hr);
    hr = pVmidlDeletePartition(partition);
    ok(hr == E_HANDLE, "delete again: got hr %#lx\n", hr);

    guest.partition = NULL;
    guest_destroy(&guest);
    check_resources(&baseline);
}

static void test_killed_thread(void)
{
    VMIDL_RUN_VP_EXIT_CONTEXT exit;
    struct resources baseline;
    struct vp_thread run;
    struct guest guest;
    unsigned int i;
    HRESULT hr;

    if (!init_resource_counting()) return;
    get_resources(&baseline);
    if (!create_guest(&guest)) return;

    for (i = 0; i < 2; i++)
    {
        winetest_push_context(i ? "then delete" : "then run");
        spin_ops(&guest, 1);
        ok(guest_start(&guest) == S_OK, "cannot start the guest\n");
        start_run(&run, &guest, 0);
        let_guest_run(&guest, 1);
        ok(TerminateThread(run.thread, 0xdead), "TerminateThread failed, error %lu\n", GetLastError());
        ok(!WaitForSingleObject(run.thread, TEST_WAIT_MS), "thread not terminated\n");
        CloseHandle(run.thread);
        ok(run.hr == E_PENDING, "the run returned: hr %#lx\n", run.hr);

        if (!i)
        {
            /* Another thread takes the VP over, and the guest goes on. */
            *(volatile UINT64 *)guest_ram(&guest, FLAG) = 1;
            hr = pVmidlRunVirtualProcessor(guest.partition, 0, &exit);
            ok(hr == S_OK && exit_is_done(&exit, guest.op_count), "got hr %#lx, exit %u\n", hr, exit.ExitReason);
        }
        else
        {
            hr = pVmidlDeletePartition(guest.partition);
            ok(hr == S_OK, "got hr %#lx\n", hr);
            guest.partition = NULL;
        }
        winetest_pop_context();
    }
    guest_destroy(&guest);
    check_resources(&baseline);
}

/* Two VPs, each ringing its own device's doorbell and taking intercepted
 * MMIO from it, on two threads at once. */
#define RINGS 200

struct doorbell_driver
{
    struct guest *guest;
    HANDLE event, thread;
    UINT64 ack;
    LONG rings;
};

/* Wakes on each ring and lets the guest go on. */
static DWORD WINAPI doorbell_driver_proc(void *arg)
{
    struct doorbell_driver *driver = arg;

    while (driver->rings < RINGS && !WaitForSingleObject(driver->event, TEST_WAIT_MS))
        *(volatile UINT64 *)guest_ram(driver->guest, driver->ack) = ++driver->rings;
    return 0;
}

struct counting_emulator
{
    LONG calls;
    LONG thread;                /* the thread of its first callback: the only one it may see */
    LONG wrong_thread;
};

static HRESULT CALLBACK counting_emulator_callback(void *context, UINT32 bar, UINT64 offset, UINT32 size,
        BOOL is_write, UINT64 *data)
{
    struct counting_emulator *emulator = context;

    if (!is_write) *data = guest_mmio_read_value(bar, offset, size);
    InterlockedCompareExchange(&emulator->thread, GetCurrentThreadId(), 0);
    if (GetCurrentThreadId() != (DWORD)emulator->thread) InterlockedIncrement(&emulator->wrong_thread);
    InterlockedIncrement(&emulator->calls);
    return S_OK;
}

static void test_two_vps(void)
{
    struct counting_emulator emulators[2] = {{0}};
    struct doorbell_driver drivers[2];
    IVmFiovGuestMemoryFastNotification *notification;
    VMIDL_FLEXIO_DEVICE_DESC desc;
    struct guest_op *ops[2];
    struct vp_thread runs[2];
    DWORD run_threads[2];
    unsigned int vp, i, count, bad;
    IUnknown *devices[2];
    struct guest guest;
    HRESULT hr;

    if (FAILED(hr = guest_create_vps(&guest, &guest_image_interp, 2)))
    {
        ok(0, "cannot create a guest, hr %#lx\n", hr);
        return;
    }

    for (vp = 0; vp < 2; vp++)
    {
        UINT64 base = vp ? BAR0_VP1 : BAR0;

        guest_device_desc(&desc, vp ? &instance1 : &instance0, NULL, base);
        desc.MmioCallback = counting_emulator_callback;
        desc.MmioCallbackContext = &emulators[vp];
        hr = pVmidlAddFlexIoDevice(guest.partition, &desc, &devices[vp]);
        ok(hr == S_OK, "got hr %#lx\n", hr);
        IUnknown_QueryInterface(devices[vp], &IID_IVmFiovGuestMemoryFastNotification, (void **)&notification);
        drivers[vp].guest = &guest;
        drivers[vp].event = CreateEventA(NULL, FALSE, FALSE, NULL);
        drivers[vp].ack = ACKS + vp * 8;
        drivers[vp].rings = 0;
        *(UINT64 *)guest_ram(&guest, drivers[vp].ack) = 0;
        hr = IVmFiovGuestMemoryFastNotification_RegisterDoorbell(notification, FIOV_BAR0, 0x8008, vp + 1,
                SIZE_QWORD, drivers[vp].event);
        ok(hr == S_OK, "got hr %#lx\n", hr);
        IVmFiovGuestMemoryFastNotification_Release(notification);

        /* Each round: ring, wait for the driver's ack, read a register. */
        ops[vp] = vp ? guest_ram(&guest, GUEST_VP1_OPS) : guest.ops;
        for (i = 0, count = 0; i < RINGS; i++)
        {
            struct guest_op *op = &ops[vp][count];

            op[0] = (struct guest_op){GUEST_OP_WRITE, 8, base + 0x8008, vp + 1, 0};
            op[1] = (struct guest_op){GUEST_OP_WAIT, 64, drivers[vp].ack, i + 1, 0};
            op[2] = (struct guest_op){GUEST_OP_READ, 4, base + 0x100 + (i % 64) * 4, 0, 0};
            count += 3;
        }
        memset(&ops[vp][count], 0, sizeof(*ops[vp]));
        if (!vp) guest.op_count = count;
        drivers[vp].thread = CreateThread(NULL, 0, doorbell_driver_proc, &drivers[vp], 0, NULL);
    }
    ok(guest_start(&guest) == S_OK, "cannot start VP 0\n");
    ok(guest_start_vp(&guest, 1, GUEST_VP1_OPS, 0, GUEST_VP1_STACK) == S_OK, "cannot start VP 1\n");
    for (vp = 0; vp < 2; vp++)
    {
        start_run(&runs[vp], &guest, vp);
        run_threads[vp] = GetThreadId(runs[vp].thread);
    }

    for (vp = 0; vp < 2; vp++)
    {
        winetest_push_context("VP %u", vp);
        if (finish_run(&runs[vp]))
            ok(runs[vp].hr == S_OK && exit_is_done(&runs[vp].exit, guest.op_count),
                    "got hr %#lx, exit %u at %#I64x\n", runs[vp].hr, runs[vp].exit.ExitReason, runs[vp].exit.Address);
        ok(!WaitForSingleObject(drivers[vp].thread, TEST_WAIT_MS), "driver thread hangs\n");
        ok(drivers[vp].rings == RINGS, "%ld rings\n", drivers[vp].rings);
        ok(emulators[vp].calls == RINGS, "%ld intercepted accesses\n", emulators[vp].calls);
        ok((DWORD)emulators[vp].thread == run_threads[vp] && !emulators[vp].wrong_thread,
                "callbacks on thread %04lx (%ld on others), the run's %04lx\n", emulators[vp].thread,
                emulators[vp].wrong_thread, run_threads[vp]);
        for (i = 0, bad = 0; i < RINGS; i++)
        {
            const struct guest_op *op = &ops[vp][i * 3];
            if (op[1].result != 1 || op[2].result != guest_mmio_read_value(FIOV_BAR0, 0x100 + (i % 64) * 4, 4)) bad++;
        }
        ok(!bad, "%u rounds went wrong\n", bad);
        CloseHandle(drivers[vp].thread);
        CloseHandle(drivers[vp].event);
        IUnknown_Release(devices[vp]);
        winetest_pop_context();
    }
    guest_destroy(&guest);
}

START_TEST(vp)
{
    struct guest guest;

    if (!init_guest_test(&guest)) return;
    guest_destroy(&guest);

    test_cancel_before_run();
    test_cancel_spinning();
    test_cancel_in_exit();
    test_cancel_string_instruction();
    test_cancel_racing_delete();
    test_delete_running();
    test_killed_thread();
    test_two_vps();
}
