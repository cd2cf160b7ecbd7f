/* examples/c/demo.c: the C ABI on the built-in demo model. Generates one transparent image with progress, checks it,
 * shows an error and a cancellation, and frees everything. scripts/build-libld.sh builds and runs it:
 *   clang -I include examples/c/demo.c -L OUT -lld -Wl,-rpath,OUT -o demo && ./demo            */
#include <stdio.h>
#include <string.h>
#include "ld.h"

static void on_log(void *user, int level, const char *message) {
    (void)user;
    fprintf(stderr, "[ld %s] %s\n", level ? "warn" : "info", message);
}

static int on_progress(void *user, int step, int total, float sigma) {
    int *cancel_at = (int *)user;
    printf("step %d/%d sigma %.3f\n", step + 1, total, sigma);
    return *cancel_at >= 0 && step >= *cancel_at; /* non-zero: cancel */
}

int main(void) {
    printf("libld %s\n", ld_version());

    ld_engine_options options = {0};
    options.demo = 1;
    options.device = "cpu";
    options.log = on_log;
    ld_engine *engine = ld_engine_create(&options);
    if (!engine) { fprintf(stderr, "ld_engine_create: %s\n", ld_last_error()); return 1; }

    ld_settings settings = {0};
    settings.prompt = "a glass bottle, high quality";
    settings.negative = "bad, ugly";
    settings.steps = 4;
    settings.cfg = 5;
    settings.sampler = "euler";
    settings.seed = 7;
    settings.width = settings.height = 64;
    settings.weight = 1;
    settings.stop_at = 1;

    int cancel_at = -1;
    ld_image image;
    if (ld_generate(engine, &settings, on_progress, &cancel_at, &image) != LD_OK) {
        fprintf(stderr, "ld_generate: %s\n", ld_last_error());
        return 1;
    }
    long transparent = 0;
    for (long i = 0; i < (long)image.width * image.height; i++) transparent += image.rgba[4 * i + 3] < 255;
    printf("image %dx%d seed %lld, %ld of %d pixels not opaque\n", image.width, image.height, (long long)image.seed,
           transparent, image.width * image.height);
    ld_buffer_free(image.rgba);

    /* A bad setting: an error naming it, and the engine stays usable. */
    settings.width = 70;
    if (ld_generate(engine, &settings, NULL, NULL, &image) != LD_ERROR) { fprintf(stderr, "width 70 was accepted\n"); return 1; }
    printf("error: %s\n", ld_last_error());
    settings.width = 64;

    /* Cancelled from the progress callback after the second step. */
    cancel_at = 1;
    int rc = ld_generate(engine, &settings, on_progress, &cancel_at, &image);
    printf("cancelled: %s\n", rc == LD_CANCELLED ? "yes" : "no");
    if (rc != LD_CANCELLED) return 1;

    ld_engine_free(engine);
    printf("ok\n");
    return 0;
}
