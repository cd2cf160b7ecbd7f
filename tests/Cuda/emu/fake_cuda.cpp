// A fake CUDA driver (the subset CuDriver.cs resolves) that runs the kernels of kernels/*.cu compiled for the host
// with LD_HOST_EMU. cuModuleLoadData parses the PTX the engine embeds for each entry's parameter list, and
// cuLaunchKernel calls the host-compiled kernel of the same name through libffi with the same void** arguments a
// GPU launch gets, once per CUDA thread: the threads of a block are coroutines on the calling thread (a six-register
// x86-64 stack switch; ucontext's signal-mask syscalls made it 10x slower),
// __syncthreads switches to the next thread until all live threads of the block have arrived, and warp shuffles do
// the same per warp through a buffer. Memory is host memory, poisoned with NaN bytes on allocation. Only for tests:
// slow, but it runs the real backend code paths (argument packing, strides, grids) and the real kernel source.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <chrono>
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <immintrin.h>
#include <ffi.h>
#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

thread_local unsigned ld_emu_tid, ld_emu_ntid, ld_emu_bid[3], ld_emu_nbid[3];

namespace {

// ---- the coroutine scheduler of one block
extern "C" void ld_emu_switch(void** save_sp, void* new_sp);
asm(R"(
    .text
    .globl ld_emu_switch
    .type ld_emu_switch,@function
ld_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size ld_emu_switch, .-ld_emu_switch
)");

struct Coro
{
    void* sp = nullptr;
    char* stack = nullptr;  // its stack's top, from the first time the thread runs until it returns
    bool done = false;
    int waiting = 0;  // 0 runnable, 1 at the block barrier, 2 at its warp's barrier
};
// Stacks go to threads as they start and come back as they finish, so a block whose threads never wait at a barrier
// runs all of them on one or two stacks that stay in cache.
const size_t kStackBytes = 256 * 1024;
std::vector<char*> g_free_stacks;  // the tops of stacks no thread uses
void* g_sched_sp = nullptr;
std::vector<Coro> g_coros;
unsigned g_nthreads = 0, g_cur = 0;
// Barrier bookkeeping, O(1) per arrival: the live (not finished) threads of the block and of each warp, and who waits
// at the block barrier and at each warp's barrier (a scan of the block per arrival made a 256-thread block's barrier
// cost 256² steps).
unsigned g_block_live = 0, g_warp_live[32];
std::vector<unsigned> g_block_waiters, g_warp_waiters[32];
void* g_fn = nullptr;
std::vector<unsigned> g_order;
unsigned long long g_rng = 0x2545F4914F6CDD1Dull;
ffi_cif* g_cif = nullptr;
void** g_args = nullptr;

void release(std::vector<unsigned>& waiters)
{
    for (unsigned t : waiters) g_coros[t].waiting = 0;
    waiters.clear();
}

// Releases the block barrier or the warp barrier of thread t's warp when every live thread of its scope has arrived.
void release_ready(unsigned t)
{
    if (!g_block_waiters.empty() && g_block_waiters.size() == g_block_live) release(g_block_waiters);
    unsigned w = t / 32;
    if (!g_warp_waiters[w].empty() && g_warp_waiters[w].size() == g_warp_live[w]) release(g_warp_waiters[w]);
}

void wait_at(int kind)
{
    Coro& c = g_coros[g_cur];
    (kind == 1 ? g_block_waiters : g_warp_waiters[g_cur / 32]).push_back(g_cur);
    c.waiting = kind;
    release_ready(g_cur);
    if (c.waiting != 0) ld_emu_switch(&c.sp, g_sched_sp);
}

// cp.async as the hardware may order it: each copy is held back until a cp.async.wait_group must have completed
// it, so a kernel that reads shared memory before waiting for the copy sees stale data and fails its selftest.
struct PendingCopy { void* dst; const void* src; bool valid; unsigned group; };
std::vector<PendingCopy> g_pending[1024];
unsigned g_committed[1024];

void coro_entry()
{
    g_pending[g_cur].clear();
    g_committed[g_cur] = 0;
    ffi_call(g_cif, FFI_FN(g_fn), nullptr, g_args);
    Coro& c = g_coros[g_cur];
    c.done = true;
    g_block_live--;
    g_warp_live[g_cur / 32]--;
    release_ready(g_cur);  // a finished thread no longer holds a barrier back
    ld_emu_switch(&c.sp, g_sched_sp);  // never resumed
    std::abort();
}

// A fresh stack whose first switch "returns" into coro_entry with the ABI's entry alignment. Stack i's top sits
// i·80 bytes (mod 8 KiB) below its buffer's end: buffers of the same size allocated one after another would put every
// thread's live frames at the same offset modulo the cache's set stride, and a barrier then walks 256 frames that
// all compete for the same few cache sets. (The offset belongs to the stack, not to the thread: a thread on a reused
// stack at another offset than the stack's previous thread read one word of ld_binary's by-value parameter block
// wrong, which this layout avoids and which remains unexplained.)
std::vector<std::unique_ptr<char[]>> g_stack_memory;
void* fresh_stack(Coro& c)
{
    if (g_free_stacks.empty())
    {
        char* m = g_stack_memory.emplace_back(new char[kStackBytes]).get();
        g_free_stacks.push_back(m + kStackBytes - (g_stack_memory.size() * 80u) % 8192u);
    }
    c.stack = g_free_stacks.back();
    g_free_stacks.pop_back();
    auto top = (uintptr_t)c.stack & ~(uintptr_t)15;
    auto* ret = (uintptr_t*)(top - 16);      // 16-aligned slot: coro_entry starts with rsp % 16 == 8
    ret[0] = (uintptr_t)&coro_entry;
    ret[1] = 0;
    auto* regs = ret - 6;                    // r15 r14 r13 r12 rbx rbp
    for (int i = 0; i < 6; i++) regs[i] = 0;
    return regs;
}

struct Param { int kind; size_t size; };  // kind: 0 u64, 1 u32, 2 f32, 3 struct
struct Kernel
{
    std::string name;
    void* fn = nullptr;
    std::vector<Param> params;
    ffi_cif cif;
    long launches = 0, threads = 0;  // LD_EMU_PROFILE's counts
    double seconds = 0;
    std::vector<ffi_type*> types;
    std::vector<std::unique_ptr<ffi_type>> structs;
    std::vector<std::vector<ffi_type*>> struct_elems;
};

std::mutex g_mutex;
std::map<std::string, std::vector<Param>> g_signatures;  // from every loaded PTX module
std::map<std::string, std::unique_ptr<Kernel>> g_kernels;
size_t g_allocated = 0;
std::map<unsigned long long, size_t> g_sizes;
const size_t kDefaultDeviceBytes = 8ull << 30;  // a pretend 8 GiB GPU: larger requests fail with out of memory

// Failure injection for the tests (read once): LD_EMU_DEVICE_BYTES pretends a GPU of that size; LD_EMU_FAIL_ALLOC_AT=N
// makes only the Nth cuMemAlloc fail with out of memory, LD_EMU_FAIL_ALLOC_FROM=N every call from the Nth on;
// LD_EMU_LEAK_REPORT=1 prints the device bytes still allocated when the process exits.
long env_long(const char* name, long fallback)
{
    const char* v = std::getenv(name);
    return v && *v ? std::atol(v) : fallback;
}
const size_t kDeviceBytes = (size_t)env_long("LD_EMU_DEVICE_BYTES", (long)kDefaultDeviceBytes);
const long kFailAllocAt = env_long("LD_EMU_FAIL_ALLOC_AT", 0), kFailAllocFrom = env_long("LD_EMU_FAIL_ALLOC_FROM", 0);
long g_alloc_calls = 0;

struct LeakReport
{
    ~LeakReport()
    {
        if (env_long("LD_EMU_LEAK_REPORT", 0))
            std::fprintf(stderr, "emu: %zu device bytes in %zu allocations still held at exit\n", g_allocated, g_sizes.size());
    }
} g_leak_report;

// LD_EMU_PROFILE=1 prints, at exit, each kernel's launches, CUDA threads run and host seconds, slowest first: where
// an emulated test spends its time (every thread is a coroutine, so thread count, not work, is the usual cost).
std::vector<Kernel*> g_profiled;
struct KernelProfile
{
    ~KernelProfile()
    {
        if (g_profiled.empty()) return;
        std::sort(g_profiled.begin(), g_profiled.end(), [](Kernel* a, Kernel* b) { return a->seconds > b->seconds; });
        std::fprintf(stderr, "emu profile: %-40s %9s %12s %9s\n", "kernel", "launches", "threads", "seconds");
        for (Kernel* k : g_profiled)
            std::fprintf(stderr, "emu profile: %-40s %9ld %12ld %9.3f\n", k->name.c_str(), k->launches, k->threads, k->seconds);
    }
} g_kernel_profile;

void parse_ptx(const char* text)
{
    const char* p = text;
    while ((p = std::strstr(p, ".entry ")) != nullptr)
    {
        p += 7;
        const char* open = std::strchr(p, '(');
        if (!open) break;
        std::string name(p, open - p);
        const char* close = std::strchr(open, ')');
        std::string body(open + 1, close - open - 1);
        std::vector<Param> params;
        size_t pos = 0;
        while ((pos = body.find(".param", pos)) != std::string::npos)
        {
            size_t end = body.find_first_of(",", pos);
            std::string decl = body.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
            pos += 6;
            if (decl.find(".b8") != std::string::npos)
            {
                size_t lb = decl.find('['), rb = decl.find(']');
                params.push_back({3, (size_t)std::atol(decl.substr(lb + 1, rb - lb - 1).c_str())});
            }
            else if (decl.find(".u64") != std::string::npos || decl.find(".s64") != std::string::npos) params.push_back({0, 8});
            else if (decl.find(".f32") != std::string::npos) params.push_back({2, 4});
            else params.push_back({1, 4});
        }
        g_signatures[name] = params;
        p = close;
    }
}

}  // namespace

void ld_emu_cp_async16(void* dst, const void* src, int valid)
{
    g_pending[g_cur].push_back({dst, src, valid != 0, g_committed[g_cur]});
}

void ld_emu_cp_commit() { g_committed[g_cur]++; }

void ld_emu_cp_wait(int n)
{
    // Every copy of a group older than the n most recent committed ones lands now; later ones stay in flight.
    unsigned limit = g_committed[g_cur] >= (unsigned)n ? g_committed[g_cur] - (unsigned)n : 0;
    auto& q = g_pending[g_cur];
    size_t kept = 0;
    for (auto& c : q)
    {
        if (c.group < limit)
        {
            if (c.valid) std::memcpy(c.dst, c.src, 16);
            else std::memset(c.dst, 0, 16);
        }
        else q[kept++] = c;
    }
    q.resize(kept);
}

void ld_emu_sync() { wait_at(1); }

// Warp exchanges: every lane deposits its values, waits for the warp, reads. The deposits alternate between two
// buffers (each lane counts its exchanges), so no second barrier is needed before the next exchange: a lane can
// only deposit into a buffer again after the whole warp has arrived at the exchange in between, i.e. after every
// lane has read that buffer.
namespace {
float g_exchange[2][32][32][3];
unsigned g_exchange_count[1024];

float (&deposit(unsigned warp))[32][3]
{
    return g_exchange[g_exchange_count[ld_emu_tid]++ & 1][warp];
}
}  // namespace

float ld_emu_shfl_xor(float v, int mask)
{
    unsigned lane = ld_emu_tid & 31u, warp = ld_emu_tid >> 5;
    auto& buf = deposit(warp);
    buf[lane][0] = v;
    wait_at(2);
    return buf[lane ^ (unsigned)mask][0];
}

void ld_emu_shfl_xor3(float (&v)[3], int mask)
{
    unsigned lane = ld_emu_tid & 31u, warp = ld_emu_tid >> 5;
    auto& buf = deposit(warp);
    for (int i = 0; i < 3; i++) buf[lane][i] = v[i];
    wait_at(2);
    for (int i = 0; i < 3; i++) v[i] = buf[lane ^ (unsigned)mask][i];
}

// The butterfly `for (o = 16; o > 0; o >>= 1) v = op(v, shfl_xor(v, o))` of every lane, replayed on the deposited
// values in the same order (so bit for bit what the shuffles give, signed zeros and NaNs of max included), after one
// barrier. The first lane to read computes all 32 lanes' results; a deposit clears them (no lane can still be reading
// them then, as above).
namespace {
float g_reduced[2][32][32];
bool g_reduced_ready[2][32];
}  // namespace

float ld_emu_warp_reduce(float v, int op)
{
    unsigned lane = ld_emu_tid & 31u, warp = ld_emu_tid >> 5, phase = g_exchange_count[ld_emu_tid] & 1;
    auto& buf = deposit(warp);
    buf[lane][0] = v;
    g_reduced_ready[phase][warp] = false;
    wait_at(2);
    float* x = g_reduced[phase][warp];
    if (!g_reduced_ready[phase][warp])
    {
        float y[32];
        for (unsigned l = 0; l < 32; l++) x[l] = buf[l][0];
        for (unsigned o = 16; o > 0; o >>= 1)
        {
            for (unsigned l = 0; l < 32; l++) y[l] = op == 0 ? x[l] + x[l ^ o] : (x[l] > x[l ^ o] ? x[l] : x[l ^ o]);
            std::memcpy(x, y, sizeof y);
        }
        g_reduced_ready[phase][warp] = true;
    }
    return x[lane];
}

// The warp-collective matrix product: every lane deposits its fragments, and after one barrier computes its own 4
// outputs, s = c then += A[r][k]·B[k][n] for k in order. The first lane to read decodes the warp's A (16×16) and
// B (16×8) from the fragments into floats for all; deposits alternate between two buffers by the exchange count as
// the shuffles' do, so no barrier is needed after reading.
namespace {
unsigned g_mma_a[2][32][32][4], g_mma_b[2][32][32][2];
float g_mma_af[2][32][16][16], g_mma_bf[2][32][16][8];
bool g_mma_decoded[2][32];

float half_of(unsigned reg, int hi, int bf16)
{
    unsigned short h = (unsigned short)(hi ? reg >> 16 : reg & 0xffffu);
    if (!bf16) return _cvtsh_ss(h);
    unsigned u = (unsigned)h << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// Deposits this lane's fragments (a: 4 registers for k16, 2 for k8; b: 2 or 1) and waits for the warp; returns the phase.
unsigned mma_deposit(const unsigned* a, int na, const unsigned* b, int nb)
{
    unsigned lane = ld_emu_tid & 31u, warp = ld_emu_tid >> 5, phase = g_exchange_count[ld_emu_tid]++ & 1;
    for (int i = 0; i < na; i++) g_mma_a[phase][warp][lane][i] = a[i];
    for (int i = 0; i < nb; i++) g_mma_b[phase][warp][lane][i] = b[i];
    g_mma_decoded[phase][warp] = false;
    wait_at(2);
    return phase;
}

// Each lane's 4 outputs from the decoded A (16×K) and B (K×8).
template <int K>
void mma_outputs(float* c, unsigned phase)
{
    unsigned lane = ld_emu_tid & 31u, warp = ld_emu_tid >> 5;
    int g = (int)lane / 4, t = (int)lane % 4;
    float out[4];
    for (int i = 0; i < 4; i++)
    {
        int r = g + (i >= 2 ? 8 : 0), n = 2 * t + (i % 2);
        float s = c[i];
        for (int k = 0; k < K; k++) s += g_mma_af[phase][warp][r][k] * g_mma_bf[phase][warp][k][n];
        out[i] = s;
    }
    for (int i = 0; i < 4; i++) c[i] = out[i];
}
}  // namespace

void ld_emu_mma_m16n8k16(float* c, const unsigned* a, unsigned b0, unsigned b1, int bf16)
{
    unsigned b[2] = { b0, b1 }, warp = ld_emu_tid >> 5;
    unsigned phase = mma_deposit(a, 4, b, 2);
    if (!g_mma_decoded[phase][warp])
    {
        // A[r][k]: lane (r % 8)·4 + (k % 8) / 2, register (r ≥ 8) + 2·(k ≥ 8), half k % 2.
        // B[k][n]: lane n·4 + (k % 8) / 2, register (k ≥ 8), half k % 2.
        auto& fa = g_mma_a[phase][warp];
        auto& fb = g_mma_b[phase][warp];
        for (int r = 0; r < 16; r++)
            for (int k = 0; k < 16; k++)
                g_mma_af[phase][warp][r][k] = half_of(fa[(r % 8) * 4 + (k % 8) / 2][(r >= 8 ? 1 : 0) + (k >= 8 ? 2 : 0)], k % 2, bf16);
        for (int k = 0; k < 16; k++)
            for (int n = 0; n < 8; n++) g_mma_bf[phase][warp][k][n] = half_of(fb[n * 4 + (k % 8) / 2][k >= 8 ? 1 : 0], k % 2, bf16);
        g_mma_decoded[phase][warp] = true;
    }
    mma_outputs<16>(c, phase);
}

// mma.sync.m16n8k8: A[r][k] is lane (r % 8)·4 + k / 2, register (r ≥ 8), half k % 2; B[k][n] lane n·4 + k / 2, half k % 2.
void ld_emu_mma_m16n8k8(float* c, const unsigned* a, unsigned b, int bf16)
{
    unsigned warp = ld_emu_tid >> 5;
    unsigned phase = mma_deposit(a, 2, &b, 1);
    if (!g_mma_decoded[phase][warp])
    {
        auto& fa = g_mma_a[phase][warp];
        auto& fb = g_mma_b[phase][warp];
        for (int r = 0; r < 16; r++)
            for (int k = 0; k < 8; k++) g_mma_af[phase][warp][r][k] = half_of(fa[(r % 8) * 4 + k / 2][r >= 8 ? 1 : 0], k % 2, bf16);
        for (int k = 0; k < 8; k++)
            for (int n = 0; n < 8; n++) g_mma_bf[phase][warp][k][n] = half_of(fb[n * 4 + k / 2][0], k % 2, bf16);
        g_mma_decoded[phase][warp] = true;
    }
    mma_outputs<8>(c, phase);
}

// ldmatrix.x4: every lane deposits its row address; lane l then reads, from matrix j (the rows given by lanes
// 8j..8j+7), row l / 4 columns 2(l % 4), +1, or with trans rows 2(l % 4), +1 of column l / 4. Double-buffered as above.
namespace {
const unsigned short* g_ldm_rows[2][32][32];
}  // namespace

void ld_emu_ldmatrix_x4(unsigned* r, const unsigned short* row, int trans)
{
    unsigned lane = ld_emu_tid & 31u, warp = ld_emu_tid >> 5, phase = g_exchange_count[ld_emu_tid]++ & 1;
    g_ldm_rows[phase][warp][lane] = row;
    wait_at(2);
    unsigned g = lane / 4, t = lane % 4;
    for (int j = 0; j < 4; j++)
    {
        const unsigned short* const* m = g_ldm_rows[phase][warp] + 8 * j;
        unsigned short lo = trans ? m[2 * t][g] : m[g][2 * t];
        unsigned short hi = trans ? m[2 * t + 1][g] : m[g][2 * t + 1];
        r[j] = (unsigned)lo | ((unsigned)hi << 16);
    }
}

// For the fake cuDNN (fake_cudnn.cpp): whether [p, p + bytes) lies inside one live device allocation, so a
// descriptor that describes more memory than the backend allocated fails there instead of reading past the end.
bool ld_emu_device_range(unsigned long long p, size_t bytes)
{
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_sizes.upper_bound(p);
    if (it == g_sizes.begin()) return false;
    --it;
    return p >= it->first && p + bytes <= it->first + it->second;
}

// ---- stream capture (CUDA graphs)
// A stream between cuStreamBeginCapture and cuStreamEndCapture runs nothing: each kernel launch, copy, memset and
// cuBLASLt / cuDNN call issued on it is recorded (arguments copied by value, as the driver bakes a node's
// parameters), and cuGraphLaunch replays the list in order. What CUDA refuses during a global-mode capture is refused
// here too, with CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, and invalidates the capture (cuStreamEndCapture then fails
// with CUDA_ERROR_STREAM_CAPTURE_INVALIDATED): allocating or freeing device memory, synchronising the capturing
// stream or the context, synchronous copies. LD_EMU_GRAPH_REPORT=1 prints one line per graph launch (its nodes and
// the kernels launched directly since the previous graph launch) and, at exit, the kernels and the cuBLASLt / cuDNN
// calls run, direct or replayed.
namespace {
const int kCaptureUnsupported = 900, kCaptureInvalidated = 901;
enum NodeKind { NODE_KERNEL, NODE_COPY, NODE_LIBRARY };
struct Node { NodeKind kind; std::function<int()> run; };
struct Capture { bool invalid = false; std::vector<Node> nodes; };
struct Graph { std::vector<Node> nodes; };
std::mutex g_capture_mutex;
std::map<void*, Capture> g_captures;  // capturing streams
long g_kernels_run = 0, g_direct_kernels = 0;
std::atomic<long> g_library_run{0};  // cuBLASLt and cuDNN calls run, direct or replayed
const bool kGraphReport = env_long("LD_EMU_GRAPH_REPORT", 0) != 0;

struct GraphReport
{
    ~GraphReport() { if (kGraphReport) std::fprintf(stderr, "emu graphs: %ld kernels run, %ld library calls run\n", g_kernels_run, g_library_run.load()); }
} g_graph_report;

bool any_capture()
{
    std::lock_guard<std::mutex> lock(g_capture_mutex);
    return !g_captures.empty();
}

// A call CUDA prohibits while any stream captures in global mode: every capture is invalidated.
int refuse_during_capture()
{
    std::lock_guard<std::mutex> lock(g_capture_mutex);
    if (g_captures.empty()) return 0;
    for (auto& [s, c] : g_captures) c.invalid = true;
    return kCaptureUnsupported;
}

// Records op as a node when the stream captures (true); otherwise the caller runs it now (false).
bool record(void* stream, NodeKind kind, std::function<int()> op)
{
    std::lock_guard<std::mutex> lock(g_capture_mutex);
    auto it = g_captures.find(stream);
    if (it == g_captures.end()) return false;
    it->second.nodes.push_back({kind, std::move(op)});
    return true;
}
}  // namespace

// For fake_cublaslt.cpp and fake_cudnn.cpp: run a library call's work now, or record it when the stream captures.
// LD_EMU_PROFILE lists each library function (name) beside the kernels.
int ld_emu_submit(void* stream, const char* name, std::function<int()> op)
{
    static const bool profile = env_long("LD_EMU_PROFILE", 0) != 0;
    Kernel* entry = nullptr;
    if (profile)
    {
        static std::mutex m;
        static auto* calls = new std::map<std::string, Kernel*>();  // never freed: the exit report reads it
        std::lock_guard<std::mutex> lock(m);
        auto& e = (*calls)[name];
        if (!e) { e = new Kernel(); e->name = name; g_profiled.push_back(e); }
        entry = e;
    }
    auto counted = [op, entry] {
        g_library_run++;
        if (!entry) return op();
        auto t0 = std::chrono::steady_clock::now();
        int rc = op();
        entry->launches++;
        entry->seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return rc;
    };
    if (record(stream, NODE_LIBRARY, counted)) return 0;
    return counted();
}

extern "C" {

typedef int CUresult;

CUresult cuInit(unsigned) { return 0; }
CUresult cuDriverGetVersion(int* v) { *v = 13000; return 0; }
CUresult cuDeviceGetCount(int* n) { *n = 1; return 0; }
CUresult cuDeviceGet(int* d, int ordinal) { *d = ordinal; return ordinal == 0 ? 0 : 101; }
CUresult cuDeviceGetName(char* name, int len, int) { std::snprintf(name, len, "host emulation (tests/Cuda/emu)"); return 0; }
CUresult cuDeviceGetAttribute(int* v, int attr, int)
{
    switch (attr)
    {
        case 16: *v = 2; break;        // multiprocessors: few, so grid-stride loops run several rounds
        case 39: *v = 2048; break;     // threads per multiprocessor (torch's randn grid: 2 · 2048 / 256 blocks)
        case 75: *v = 8; break;        // compute capability 8.0
        case 76: *v = 0; break;
        case 97: *v = 101376; break;   // shared memory per block (opt-in)
        default: *v = 0; break;
    }
    return 0;
}
CUresult cuDeviceTotalMem_v2(size_t* b, int) { *b = kDeviceBytes; return 0; }
CUresult cuDevicePrimaryCtxRetain(void** ctx, int) { *ctx = (void*)0x1; return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(int) { return 0; }
CUresult cuCtxSetCurrent(void*) { return 0; }
CUresult cuCtxSynchronize() { return refuse_during_capture(); }
// Each stream its own handle: a capture belongs to one stream.
CUresult cuStreamCreate(void** s, unsigned)
{
    static std::atomic<uintptr_t> next{0x2};
    *s = (void*)next.fetch_add(1);
    return 0;
}
CUresult cuStreamDestroy_v2(void*) { return 0; }
CUresult cuStreamSynchronize(void*) { return refuse_during_capture(); }
// Events hold the host time they were recorded at: every emulated launch runs to completion inside its call, so
// the interval between two events is the emulated work between them (host speed, not a GPU's: for the ledger's
// per-op times and bench runs to have a non-zero shape, never for performance figures).
static double host_ms() { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
CUresult cuEventCreate(void** e, unsigned) { *e = new double(0); return 0; }
CUresult cuEventDestroy_v2(void* e) { delete (double*)e; return 0; }
CUresult cuEventRecord(void* e, void*) { *(double*)e = host_ms(); return 0; }
CUresult cuEventSynchronize(void*) { return 0; }
CUresult cuEventElapsedTime_v2(float* ms, void* start, void* end) { *ms = (float)(*(double*)end - *(double*)start); return 0; }

CUresult cuMemAlloc_v2(unsigned long long* p, size_t bytes)
{
    if (int rc = refuse_during_capture()) return rc;
    std::lock_guard<std::mutex> lock(g_mutex);
    long call = ++g_alloc_calls;
    if (call == kFailAllocAt || (kFailAllocFrom > 0 && call >= kFailAllocFrom)) return 2;  // injected out of memory
    if (g_allocated + bytes > kDeviceBytes) return 2;  // CUDA_ERROR_OUT_OF_MEMORY
    void* m = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (!m) return 2;
    // Poison: a kernel that reads memory nothing wrote sees NaNs, not zeros.
    std::memset(m, 0xFF, bytes);
    g_allocated += bytes;
    *p = (unsigned long long)m;
    g_sizes[*p] = bytes;
    return 0;
}
CUresult cuMemFree_v2(unsigned long long p)
{
    if (int rc = refuse_during_capture()) return rc;
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_sizes.find(p);
    if (it == g_sizes.end()) return 1;  // not an allocation: a double free or a bad pointer
    g_allocated -= it->second;
    g_sizes.erase(it);
    std::free((void*)p);
    return 0;
}
CUresult cuMemAllocHost_v2(void** p, size_t bytes) { *p = std::aligned_alloc(256, (bytes + 255) / 256 * 256); return 0; }
CUresult cuMemFreeHost(void* p) { std::free(p); return 0; }
// The synchronous copies synchronise with the device: refused during a capture.
CUresult cuMemcpyHtoD_v2(unsigned long long d, const void* s, size_t n) { if (int rc = refuse_during_capture()) return rc; std::memcpy((void*)d, s, n); return 0; }
CUresult cuMemcpyDtoH_v2(void* d, unsigned long long s, size_t n) { if (int rc = refuse_during_capture()) return rc; std::memcpy(d, (void*)s, n); return 0; }
CUresult cuMemcpyDtoD_v2(unsigned long long d, unsigned long long s, size_t n) { if (int rc = refuse_during_capture()) return rc; std::memmove((void*)d, (void*)s, n); return 0; }
// The asynchronous ones become copy nodes on a capturing stream; a host pointer is read when the node runs (a graph
// reads its host buffers at every launch, so the engine stages through buffers it keeps).
static CUresult on_stream(void* stream, std::function<int()> op)
{
    if (record(stream, NODE_COPY, op)) return 0;
    return op();
}
CUresult cuMemcpyHtoDAsync_v2(unsigned long long d, const void* s, size_t n, void* st) { return on_stream(st, [=] { std::memcpy((void*)d, s, n); return 0; }); }
CUresult cuMemcpyDtoHAsync_v2(void* d, unsigned long long s, size_t n, void* st) { return on_stream(st, [=] { std::memcpy(d, (void*)s, n); return 0; }); }
CUresult cuMemcpyDtoDAsync_v2(unsigned long long d, unsigned long long s, size_t n, void* st) { return on_stream(st, [=] { std::memmove((void*)d, (void*)s, n); return 0; }); }
CUresult cuMemsetD8Async(unsigned long long d, unsigned char v, size_t n, void* st) { return on_stream(st, [=] { std::memset((void*)d, v, n); return 0; }); }
CUresult cuMemGetInfo_v2(size_t* free, size_t* total) { *total = kDeviceBytes; *free = kDeviceBytes - g_allocated; return 0; }

CUresult cuModuleLoadDataEx(void** m, const void* image, unsigned, int*, void**)
{
    std::lock_guard<std::mutex> lock(g_mutex);
    parse_ptx((const char*)image);
    *m = (void*)0x3;
    return 0;
}
CUresult cuModuleLoadData(void** m, const void* image) { return cuModuleLoadDataEx(m, image, 0, nullptr, nullptr); }
CUresult cuModuleUnload(void*) { return 0; }

CUresult cuModuleGetFunction(void** f, void*, const char* name)
{
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_kernels.find(name);
    if (it != g_kernels.end()) { *f = it->second.get(); return 0; }
    auto sig = g_signatures.find(name);
    // The engine dlopens this library RTLD_LOCAL, so look the kernel up in this library itself.
    static void* self = [] {
        Dl_info info;
        dladdr((void*)&cuInit, &info);
        return dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD);
    }();
    void* fn = self ? dlsym(self, name) : nullptr;
    if (sig == g_signatures.end() || fn == nullptr) return 500;  // CUDA_ERROR_NOT_FOUND
    auto k = std::make_unique<Kernel>();
    k->name = name;
    k->fn = fn;
    k->params = sig->second;
    for (auto& prm : k->params)
    {
        if (prm.kind == 0) k->types.push_back(&ffi_type_uint64);
        else if (prm.kind == 1) k->types.push_back(&ffi_type_uint32);
        else if (prm.kind == 2) k->types.push_back(&ffi_type_float);
        else
        {
            // Structs of integers (all of ours are: kernel parameter blocks hold no floats in structs), described to
            // libffi as 8-byte words plus a 4-byte and single-byte tail, so its SysV classification (registers up to
            // 16 bytes, memory beyond) and copy size match the C type's.
            auto& elems = k->struct_elems.emplace_back(prm.size / 8, &ffi_type_uint64);
            size_t rest = prm.size % 8;
            if (rest >= 4) { elems.push_back(&ffi_type_uint32); rest -= 4; }
            for (; rest > 0; rest--) elems.push_back(&ffi_type_uint8);
            elems.push_back(nullptr);
            auto st = std::make_unique<ffi_type>();
            st->size = 0; st->alignment = 0; st->type = FFI_TYPE_STRUCT; st->elements = elems.data();
            k->types.push_back(st.get());
            k->structs.push_back(std::move(st));
        }
    }
    if (ffi_prep_cif(&k->cif, FFI_DEFAULT_ABI, (unsigned)k->types.size(), &ffi_type_void, k->types.data()) != FFI_OK) return 1;
    *f = k.get();
    g_kernels[name] = std::move(k);
    return 0;
}

CUresult cuFuncSetAttribute(void*, int, int) { return 0; }

static CUresult run_kernel(Kernel* k, unsigned gx, unsigned gy, unsigned gz, unsigned bx, void** args)
{
    std::lock_guard<std::mutex> lock(g_mutex);
    g_kernels_run++;
    static const bool profile = env_long("LD_EMU_PROFILE", 0) != 0;
    auto started = std::chrono::steady_clock::now();
    struct Timed
    {
        Kernel* k; bool on; std::chrono::steady_clock::time_point t0;
        ~Timed() { if (on) k->seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }
    } timed{k, profile, started};
    if (profile)
    {
        if (k->launches++ == 0) g_profiled.push_back(k);
        k->threads += (long)gx * gy * gz * bx;
    }
    g_fn = k->fn; g_cif = &k->cif; g_args = args;
    g_nthreads = bx;
    g_coros.resize(bx);
    g_order.resize(bx);
    for (unsigned t = 0; t < bx; t++) g_order[t] = t;
    ld_emu_ntid = bx;
    ld_emu_nbid[0] = gx; ld_emu_nbid[1] = gy; ld_emu_nbid[2] = gz;
    for (unsigned z = 0; z < gz; z++)
        for (unsigned y = 0; y < gy; y++)
            for (unsigned x = 0; x < gx; x++)
            {
                ld_emu_bid[0] = x; ld_emu_bid[1] = y; ld_emu_bid[2] = z;
                g_block_live = bx;
                g_block_waiters.clear();
                for (unsigned w = 0; w < bx / 32; w++) { g_warp_live[w] = 32; g_warp_waiters[w].clear(); }
                std::memset(g_exchange_count, 0, sizeof g_exchange_count);
                for (unsigned t = 0; t < bx; t++)
                {
                    Coro& c = g_coros[t];
                    c.done = false;
                    c.waiting = 0;
                    c.stack = nullptr;
                }
                for (unsigned remaining = bx; remaining > 0;)
                {
                    // Each pass runs the threads in a fresh pseudo-random order, so a read of shared memory that
                    // another thread writes without a barrier in between sees stale data here too.
                    for (unsigned t = bx - 1; t > 0; t--)
                    {
                        g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
                        unsigned r = (unsigned)(g_rng >> 33) % (t + 1);
                        unsigned tmp = g_order[t]; g_order[t] = g_order[r]; g_order[r] = tmp;
                    }
                    bool ran = false;
                    for (unsigned i = 0; i < bx; i++)
                    {
                        unsigned t = g_order[i];
                        Coro& c = g_coros[t];
                        if (c.done || c.waiting != 0) continue;
                        g_cur = t;
                        ld_emu_tid = t;
                        if (c.stack == nullptr) c.sp = fresh_stack(c);
                        ld_emu_switch(&g_sched_sp, c.sp);
                        if (c.done) g_free_stacks.push_back(c.stack);
                        ran = true;
                    }
                    remaining = g_block_live;
                    if (remaining > 0 && !ran)
                    {
                        std::fprintf(stderr, "fake cuLaunchKernel(%s): block (%u,%u,%u) deadlocked at a barrier\n", k->name.c_str(), x, y, z);
                        return 719;  // CUDA_ERROR_LAUNCH_FAILED
                    }
                }
            }
    return 0;
}

CUresult cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned, void* stream, void** args, void**)
{
    auto* k = (Kernel*)f;
    if (by != 1 || bz != 1 || bx == 0 || bx > 1024 || bx % 32 != 0) return 1;  // the backend launches 1-D blocks of whole warps
    // A captured launch keeps a copy of every parameter's value (the caller's argument block is gone by replay).
    std::vector<char> blob;
    std::vector<size_t> offsets;
    for (size_t i = 0; i < k->params.size(); i++)
    {
        offsets.push_back(blob.size());
        blob.insert(blob.end(), (const char*)args[i], (const char*)args[i] + k->params[i].size);
    }
    auto replay = [=]() mutable {
        std::vector<void*> ptrs;
        for (size_t off : offsets) ptrs.push_back(blob.data() + off);
        return run_kernel(k, gx, gy, gz, bx, ptrs.data());
    };
    if (record(stream, NODE_KERNEL, replay)) return 0;
    g_direct_kernels++;
    return run_kernel(k, gx, gy, gz, bx, args);
}

CUresult cuStreamBeginCapture_v2(void* stream, int mode)
{
    if (mode != 0) return 1;  // the engine captures in CU_STREAM_CAPTURE_MODE_GLOBAL only
    std::lock_guard<std::mutex> lock(g_capture_mutex);
    if (g_captures.count(stream)) return kCaptureUnsupported;  // already capturing
    g_captures[stream] = Capture{};
    return 0;
}

CUresult cuStreamEndCapture(void* stream, void** graph)
{
    std::lock_guard<std::mutex> lock(g_capture_mutex);
    auto it = g_captures.find(stream);
    if (it == g_captures.end()) return 1;  // CUDA_ERROR_INVALID_VALUE: not capturing
    Capture c = std::move(it->second);
    g_captures.erase(it);
    *graph = nullptr;
    if (c.invalid) return kCaptureInvalidated;
    *graph = new Graph{std::move(c.nodes)};
    return 0;
}

CUresult cuGraphGetNodes(void* graph, void** nodes, size_t* count)
{
    auto* g = (Graph*)graph;
    if (nodes == nullptr) { *count = g->nodes.size(); return 0; }
    for (size_t i = 0; i < *count && i < g->nodes.size(); i++) nodes[i] = &g->nodes[i];
    return 0;
}

CUresult cuGraphInstantiateWithFlags(void** exec, void* graph, unsigned long long)
{
    if (any_capture()) return kCaptureUnsupported;
    *exec = new Graph(*(Graph*)graph);  // an executable graph is a copy: the graph may be destroyed after
    return 0;
}

CUresult cuGraphLaunch(void* exec, void* stream)
{
    auto* g = (Graph*)exec;
    {
        std::lock_guard<std::mutex> lock(g_capture_mutex);
        if (g_captures.count(stream)) return kCaptureUnsupported;  // no graphs inside graphs here
    }
    long kernels = 0;
    for (auto& n : g->nodes)
    {
        kernels += n.kind == NODE_KERNEL ? 1 : 0;
        if (int rc = n.run()) return rc;
    }
    if (kGraphReport)
        std::fprintf(stderr, "emu graph launch: nodes %zu kernels %ld direct kernels since the last launch %ld\n", g->nodes.size(), kernels, g_direct_kernels);
    g_direct_kernels = 0;
    return 0;
}

CUresult cuGraphExecDestroy(void* exec) { delete (Graph*)exec; return 0; }
CUresult cuGraphDestroy(void* graph) { delete (Graph*)graph; return 0; }

CUresult cuGetErrorName(CUresult e, const char** s)
{
    switch (e)
    {
        case 0: *s = "CUDA_SUCCESS"; break;
        case 1: *s = "CUDA_ERROR_INVALID_VALUE"; break;
        case 2: *s = "CUDA_ERROR_OUT_OF_MEMORY"; break;
        case 500: *s = "CUDA_ERROR_NOT_FOUND"; break;
        case 719: *s = "CUDA_ERROR_LAUNCH_FAILED"; break;
        case 900: *s = "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED"; break;
        case 901: *s = "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED"; break;
        default: *s = "CUDA_ERROR_UNKNOWN"; break;
    }
    return 0;
}
CUresult cuGetErrorString(CUresult e, const char** s) { return cuGetErrorName(e, s); }

}  // extern "C"
