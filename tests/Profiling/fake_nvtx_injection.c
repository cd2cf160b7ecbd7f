/* A stand-in for a profiler's NVTX injection library (what Nsight Systems points NVTX_INJECTION64_PATH at), for
 * tests/Profiling/NvtxInjectionTests: it attaches through the NVTX v3 export tables exactly as a tool does and writes
 * every range push/pop, with the thread id, to the file named by FAKE_NVTX_LOG. It also logs what it found in the
 * tables (module sizes, version) so the test can check the protocol. FAKE_NVTX_DECLINE=1 makes it refuse to attach. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef void (*fn_t)(void);
typedef fn_t **fn_table_t;
typedef const void *(*get_export_table_t)(uint32_t id);

typedef struct { size_t struct_size; int (*get_module_function_table)(int module, fn_table_t *table, unsigned *size); } callbacks_t;
typedef struct { size_t struct_size; uint32_t version; uint32_t reserved0; void (*set_injection_nvtx_version)(uint32_t); } version_info_t;

static FILE *log_file;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void say(const char *what, const char *name)
{
    pthread_mutex_lock(&lock);
    fprintf(log_file, "%ld %s%s%s\n", (long)syscall(SYS_gettid), what, name ? " " : "", name ? name : "");
    fflush(log_file);
    pthread_mutex_unlock(&lock);
}

static int range_push_a(const char *message) { say("push", message); return 0; }
static int range_pop(void) { say("pop", NULL); return 0; }
static void mark_a(const char *message) { say("mark", message); }

int InitializeInjectionNvtx2(get_export_table_t get_export_table)
{
    const char *path = getenv("FAKE_NVTX_LOG");
    if (!path || !(log_file = fopen(path, "a"))) return 0;
    if (getenv("FAKE_NVTX_DECLINE")) { say("declined", NULL); return 0; }

    const version_info_t *vi = (const version_info_t *)get_export_table(3);
    if (!vi || vi->struct_size < sizeof(version_info_t)) { say("error", "version info table"); return 0; }
    fprintf(log_file, "0 version %u\n", vi->version);
    vi->set_injection_nvtx_version(2);

    const callbacks_t *cb = (const callbacks_t *)get_export_table(1);
    if (!cb || cb->struct_size < sizeof(callbacks_t)) { say("error", "callbacks table"); return 0; }
    if (get_export_table(2) != NULL || get_export_table(99) != NULL) { say("error", "unknown export table ids must be null"); return 0; }
    for (int module = 1; module <= 6; module++)
    {
        fn_table_t table = 0;
        unsigned size = 0;
        if (!cb->get_module_function_table(module, &table, &size) || !table) { say("error", "module table"); return 0; }
        if (table[0] != NULL || table[size] != NULL) { say("error", "table ends must be null"); return 0; }
        for (unsigned id = 1; id < size; id++)
            if (table[id] == NULL || *table[id] != NULL) { say("error", "slot missing or not empty"); return 0; }
        fprintf(log_file, "0 module %d size %u\n", module, size);
        if (module == 1)   /* CORE: MarkA = 2, RangePushA = 9, RangePop = 11 */
        {
            *table[2] = (fn_t)mark_a;
            *table[9] = (fn_t)range_push_a;
            *table[11] = (fn_t)range_pop;
        }
    }
    fn_table_t none = 0;
    if (cb->get_module_function_table(7, &none, NULL) != 0) { say("error", "module 7 must not exist"); return 0; }
    say("attached", NULL);
    return 1;
}
