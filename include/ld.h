/*
 * ld.h: the C ABI of LayerDiffusion.Native (libld.so, a NativeAOT build of the engine; no .NET needed to run it).
 * SDXL + LayerDiffusion transparent image generation: text-to-image with a real alpha channel, the layer workflows
 * and transparent img2img, on an NVIDIA GPU (found at run time) or the exact fp32 CPU backend.
 *
 * Conventions
 *   - Strings are UTF-8 and NUL-terminated. Every pointer argument may be NULL where the comment says so.
 *   - Functions returning int return LD_OK, LD_ERROR (ld_last_error() says why) or LD_CANCELLED.
 *   - ld_last_error() is per thread: the message of this thread's last failed call, valid until its next call.
 *   - An engine runs one call at a time; calls on one engine from several threads wait for each other.
 *     ld_cancel() may be called from any thread (or return non-zero from the progress callback).
 *   - Images are RGBA, 8 bits per channel, straight alpha, row-major, width * height * 4 bytes. Buffers the library
 *     returns are freed with ld_buffer_free().
 */
#ifndef LD_H
#define LD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LD_OK 0
#define LD_ERROR 1
#define LD_CANCELLED 2

typedef struct ld_engine ld_engine;

/* level: 0 info, 1 warning. Called on the thread that made the call. */
typedef void (*ld_log_fn)(void *user, int level, const char *message);
/* After each sampling step (step counts from 0). Return non-zero to cancel the run. */
typedef int (*ld_progress_fn)(void *user, int step, int total, float sigma);

typedef struct ld_engine_options {
    int demo;                        /* 1: the built-in demo model (random weights, no files needed) */
    const char *checkpoint;          /* SDXL single-file .safetensors checkpoint */
    const char *tokenizer;           /* diffusers tokenizer/ folder, vocab.json + merges.txt folder, or bpe_simple_vocab_16e6.txt.gz */
    const char *layer_model;         /* the method's patch file, e.g. layer_xl_transparent_attn.safetensors (NULL: from models_dir) */
    const char *transparent_decoder; /* vae_transparent_decoder.safetensors (NULL: from models_dir) */
    const char *transparent_encoder; /* vae_transparent_encoder.safetensors, for img2img (NULL: from models_dir) */
    const char *models_dir;          /* folder with the released LayerDiffusion files under their own names, or NULL */
    const char *method;              /* the layer model's method for models_dir: "attn" (NULL), "conv", "fg2ble", "bg2ble", "fgble2bg", "bgble2fg" */
    const char *device;              /* "auto" (NULL), "cpu" or "cuda" */
    const char *precision;           /* "auto" (NULL), "fp16", "bf16" or "fp32" */
    ld_log_fn log;                   /* may be NULL */
    void *log_user;
} ld_engine_options;

typedef struct ld_settings {
    const char *prompt;     /* NULL: "" */
    const char *negative;   /* NULL: "" */
    int steps;              /* 0: 20 */
    float cfg;              /* 0 is a valid scale; use 5 for the usual default */
    const char *sampler;    /* ours or Forge's name ("euler_a", "DPM++ 2M SDE Karras"); NULL: "euler_a" */
    const char *schedule;   /* NULL: the sampler's Forge default */
    int64_t seed;           /* image i gets seed + i */
    const char *rng;        /* "gpu" (NULL, Forge's default) or "cpu" */
    int width, height;      /* multiples of 8 in [64, 8192]; 0: 1024 */
    const char *method;     /* "attn" (NULL) or "conv" for ld_generate; the layer mode for ld_layer */
    float weight;           /* layer model weight in [-1, 3]; use 1 */
    float stop_at;          /* in [0, 1]; use 1 */
    double denoise;         /* img2img strength in (0, 1]; 0: 0.75 */
} ld_settings;

/* An image the caller passes in (not copied beyond the call). */
typedef struct ld_image_in {
    const uint8_t *rgba;
    int width, height;
} ld_image_in;

/* An image the library returns: free rgba with ld_buffer_free. */
typedef struct ld_image {
    uint8_t *rgba;
    int width, height;
    int64_t seed;
} ld_image;

/* The library's version and source commit, e.g. "0.1.0-dev+5e453b8a...". Static; do not free. */
const char *ld_version(void);

/* This thread's last error message ("" if none). Valid until this thread's next ld_ call. */
const char *ld_last_error(void);

/* Loads nothing yet: the networks load on first use and stay loaded. NULL on failure (see ld_last_error). */
ld_engine *ld_engine_create(const ld_engine_options *options);
void ld_engine_free(ld_engine *engine);

/* Asks the engine's running call (if any) to stop at its next step; that call returns LD_CANCELLED. Any thread. */
void ld_cancel(ld_engine *engine);

/* Transparent text-to-image: one RGBA image into *out. */
int ld_generate(ld_engine *engine, const ld_settings *settings, ld_progress_fn progress, void *progress_user, ld_image *out);

/* Layer workflows (settings->method = "fg2ble", "bg2ble", "fgble2bg" or "bgble2fg"; fg/bg/blend as the mode needs, others NULL). */
int ld_layer(ld_engine *engine, const ld_settings *settings, const ld_image_in *fg, const ld_image_in *bg, const ld_image_in *blend,
             ld_progress_fn progress, void *progress_user, ld_image *out);

/* Transparent img2img from an RGBA image (settings->denoise; needs the transparent encoder). */
int ld_img2img(ld_engine *engine, const ld_settings *settings, const ld_image_in *init,
               ld_progress_fn progress, void *progress_user, ld_image *out);

void ld_buffer_free(uint8_t *buffer);

#ifdef __cplusplus
}
#endif
#endif
