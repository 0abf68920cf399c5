// Rift's native shim over MuJoCo 2.2.2.
//
// 1. Field access by name: mjModel/mjData arrays and scalars are looked up from the X-macro lists in
//    mjxmacro.h, so the managed side never mirrors MuJoCo's struct layouts.
// 2. Error safety: MuJoCo's error handler must not return, so every call that can raise mju_error runs
//    under setjmp; the handler longjmps back and the call reports -1 with the message (thread-local).
//    Warnings are counted and the last message kept, for the managed side to log.
// 3. Offscreen rendering: a GL context from EGL (surfaceless Mesa platform, no pbuffer) or OSMesa, loaded
//    with dlopen so no GL development package is needed at build time. A context is bound to the thread
//    that created it; the managed side keeps each context on one dedicated thread.

#include <dlfcn.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mujoco/mujoco.h>
#include <mujoco/mjxmacro.h>

#define RIFT_API __attribute__((visibility("default")))

// ---------------------------------------------------------------- errors and warnings

static __thread jmp_buf* t_guard = NULL;
static __thread char t_error[1024];
static char g_warning[1024];
static volatile int g_warnings = 0;

static void on_error(const char* msg)
{
    snprintf(t_error, sizeof t_error, "%s", msg);
    if (t_guard) longjmp(*t_guard, 1);
    // Not under a guard: the managed side always guards calls that can fail, so this is a bug; stop loudly
    // rather than let MuJoCo continue on a broken state.
    fprintf(stderr, "rift_mujoco: unguarded MuJoCo error: %s\n", msg);
    abort();
}

static void on_warning(const char* msg)
{
    snprintf(g_warning, sizeof g_warning, "%s", msg);
    __sync_fetch_and_add(&g_warnings, 1);
}

RIFT_API void rift_install_handlers(void)
{
    mju_user_error = on_error;
    mju_user_warning = on_warning;
}

RIFT_API const char* rift_last_error(void) { return t_error; }
RIFT_API int rift_warning_count(void) { return g_warnings; }
RIFT_API const char* rift_last_warning(void) { return g_warning; }

#define GUARDED(body)                      \
    jmp_buf jb;                            \
    jmp_buf* prev = t_guard;               \
    t_error[0] = 0;                        \
    if (setjmp(jb)) {                      \
        t_guard = prev;                    \
        return -1;                         \
    }                                      \
    t_guard = &jb;                         \
    body;                                  \
    t_guard = prev;                        \
    return 0;

// ---------------------------------------------------------------- model and data lifetime

RIFT_API int rift_load_xml(const char* path, char* err, int errlen, mjModel** out)
{
    *out = NULL;
    GUARDED(*out = mj_loadXML(path, NULL, err, errlen))
}

RIFT_API int rift_make_data(const mjModel* m, mjData** out)
{
    *out = NULL;
    GUARDED(*out = mj_makeData(m))
}

RIFT_API int rift_reset_data(const mjModel* m, mjData* d) { GUARDED(mj_resetData(m, d)) }
RIFT_API int rift_forward(const mjModel* m, mjData* d) { GUARDED(mj_forward(m, d)) }

RIFT_API int rift_step(const mjModel* m, mjData* d, int n)
{
    GUARDED(for (int i = 0; i < n; i++) mj_step(m, d))
}

RIFT_API void rift_delete_model(mjModel* m) { if (m) mj_deleteModel(m); }
RIFT_API void rift_delete_data(mjData* d) { if (d) mj_deleteData(d); }

// Sum of MuJoCo's per-data warning counters (contact buffer full, bad qacc, ...).
RIFT_API int rift_data_warnings(const mjData* d)
{
    int n = 0;
    for (int i = 0; i < mjNWARNING; i++) n += d->warning[i].number;
    return n;
}

// ---------------------------------------------------------------- field access by name

// Element type codes: 0 mjtNum (double), 1 int, 2 float, 3 byte/char, 4 other (struct arrays).
#define RIFT_TYPE(x) _Generic((x), double: 0, int: 1, float: 2, unsigned char: 3, char: 3, default: 4)

RIFT_API int rift_model_array(const mjModel* m, const char* name, void** ptr, int* rows, int* cols, int* type, int* elem)
{
    MJMODEL_POINTERS_PREAMBLE(m)
#define X(t, n, r, c)                                                                          \
    if (!strcmp(name, #n)) {                                                                   \
        *ptr = (void*)m->n; *rows = m->r; *cols = (c); *type = RIFT_TYPE(m->n[0]);             \
        *elem = (int)sizeof(m->n[0]); return 0;                                                \
    }
    MJMODEL_POINTERS
#undef X
    (void)nuser_body; (void)nuser_jnt; (void)nuser_geom; (void)nuser_site; (void)nuser_cam;
    (void)nuser_tendon; (void)nuser_actuator; (void)nuser_sensor; (void)nq; (void)nv; (void)na; (void)nu; (void)nmocap;
    return -1;
}

RIFT_API int rift_model_int(const mjModel* m, const char* name, int* value)
{
#define X(n) if (!strcmp(name, #n)) { *value = m->n; return 0; }
    MJMODEL_INTS
#undef X
    return -1;
}

// Pointer to a scalar field of mjModel.opt (timestep, iterations, ...).
RIFT_API int rift_model_option(mjModel* m, const char* name, void** ptr, int* type)
{
#define X(t, n) if (!strcmp(name, #n)) { *ptr = (void*)&m->opt.n; *type = RIFT_TYPE(m->opt.n); return 0; }
    MJOPTION_SCALARS
#undef X
    return -1;
}

RIFT_API int rift_data_array(const mjModel* m, mjData* d, const char* name, void** ptr, int* rows, int* cols, int* type, int* elem)
{
    MJDATA_POINTERS_PREAMBLE(m)
#define X(t, n, r, c)                                                                          \
    if (!strcmp(name, #n)) {                                                                   \
        *ptr = (void*)d->n; *rows = m->r; *cols = (c); *type = RIFT_TYPE(d->n[0]);             \
        *elem = (int)sizeof(d->n[0]); return 0;                                                \
    }
    MJDATA_POINTERS
#undef X
    (void)nv; (void)njmax;
    return -1;
}

RIFT_API int rift_data_scalar(mjData* d, const char* name, void** ptr, int* type)
{
#define X(t, n) if (!strcmp(name, #n)) { *ptr = (void*)&d->n; *type = RIFT_TYPE(d->n); return 0; }
    MJDATA_SCALAR
#undef X
    return -1;
}

// Contact i's geom pair (for grasp and collision checks without mirroring mjContact).
RIFT_API int rift_contact_geoms(const mjData* d, int i, int* geom1, int* geom2, double* dist)
{
    if (i < 0 || i >= d->ncon) return -1;
    *geom1 = d->contact[i].geom1;
    *geom2 = d->contact[i].geom2;
    *dist = d->contact[i].dist;
    return 0;
}

// ---------------------------------------------------------------- GL contexts (EGL surfaceless, OSMesa)

typedef void* EGLDisplay;
typedef void* EGLConfig;
typedef void* EGLContext;
typedef void* EGLSurface;
typedef int EGLint;
typedef unsigned int EGLBoolean;
typedef unsigned int EGLenum;

#define R_EGL_PLATFORM_SURFACELESS_MESA 0x31DD
#define R_EGL_SURFACE_TYPE 0x3033
#define R_EGL_PBUFFER_BIT 0x0001
#define R_EGL_RED_SIZE 0x3024
#define R_EGL_GREEN_SIZE 0x3023
#define R_EGL_BLUE_SIZE 0x3022
#define R_EGL_ALPHA_SIZE 0x3021
#define R_EGL_DEPTH_SIZE 0x3025
#define R_EGL_STENCIL_SIZE 0x3026
#define R_EGL_RENDERABLE_TYPE 0x3040
#define R_EGL_OPENGL_BIT 0x0008
#define R_EGL_NONE 0x3038
#define R_EGL_OPENGL_API 0x30A2

typedef void* (*PFN_eglGetProcAddress)(const char*);
typedef EGLDisplay (*PFN_eglGetPlatformDisplayEXT)(EGLenum, void*, const EGLint*);
typedef EGLBoolean (*PFN_eglInitialize)(EGLDisplay, EGLint*, EGLint*);
typedef EGLBoolean (*PFN_eglChooseConfig)(EGLDisplay, const EGLint*, EGLConfig*, EGLint, EGLint*);
typedef EGLBoolean (*PFN_eglBindAPI)(EGLenum);
typedef EGLContext (*PFN_eglCreateContext)(EGLDisplay, EGLConfig, EGLContext, const EGLint*);
typedef EGLBoolean (*PFN_eglMakeCurrent)(EGLDisplay, EGLSurface, EGLSurface, EGLContext);
typedef EGLBoolean (*PFN_eglDestroyContext)(EGLDisplay, EGLContext);

typedef void* (*PFN_OSMesaCreateContextExt)(unsigned int, int, int, int, void*);
typedef unsigned char (*PFN_OSMesaMakeCurrent)(void*, void*, unsigned int, int, int);
typedef void (*PFN_OSMesaDestroyContext)(void*);

typedef struct
{
    int backend;   // 1 EGL, 2 OSMesa
    EGLDisplay egl_display;
    EGLContext egl_context;
    void* osmesa_context;
    void* osmesa_buffer;
    int width, height;
    mjvScene scene;
    mjvCamera camera;
    mjvOption option;
    mjrContext context;
    mjrRect viewport;
    unsigned char* rgb;
} RiftRenderer;

static void* g_egl = NULL;
static void* g_osmesa = NULL;

static int make_egl(RiftRenderer* r, char* err, int errlen)
{
    if (!g_egl) g_egl = dlopen("libEGL.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!g_egl) { snprintf(err, errlen, "EGL: cannot load libEGL.so.1 (%s)", dlerror()); return -1; }
    PFN_eglGetProcAddress gpa = (PFN_eglGetProcAddress)dlsym(g_egl, "eglGetProcAddress");
    PFN_eglInitialize init = (PFN_eglInitialize)dlsym(g_egl, "eglInitialize");
    PFN_eglChooseConfig choose = (PFN_eglChooseConfig)dlsym(g_egl, "eglChooseConfig");
    PFN_eglBindAPI bind = (PFN_eglBindAPI)dlsym(g_egl, "eglBindAPI");
    PFN_eglCreateContext create = (PFN_eglCreateContext)dlsym(g_egl, "eglCreateContext");
    PFN_eglMakeCurrent make_current = (PFN_eglMakeCurrent)dlsym(g_egl, "eglMakeCurrent");
    if (!gpa || !init || !choose || !bind || !create || !make_current) { snprintf(err, errlen, "EGL: missing entry points"); return -1; }
    PFN_eglGetPlatformDisplayEXT get_display = (PFN_eglGetPlatformDisplayEXT)gpa("eglGetPlatformDisplayEXT");
    if (!get_display) { snprintf(err, errlen, "EGL: eglGetPlatformDisplayEXT unavailable"); return -1; }
    EGLDisplay dpy = get_display(R_EGL_PLATFORM_SURFACELESS_MESA, NULL, NULL);
    EGLint major, minor;
    if (!dpy || !init(dpy, &major, &minor)) { snprintf(err, errlen, "EGL: surfaceless Mesa display unavailable"); return -1; }
    const EGLint attribs[] = {
        R_EGL_SURFACE_TYPE, R_EGL_PBUFFER_BIT, R_EGL_RED_SIZE, 8, R_EGL_GREEN_SIZE, 8, R_EGL_BLUE_SIZE, 8, R_EGL_ALPHA_SIZE, 8,
        R_EGL_DEPTH_SIZE, 24, R_EGL_STENCIL_SIZE, 8, R_EGL_RENDERABLE_TYPE, R_EGL_OPENGL_BIT, R_EGL_NONE};
    EGLConfig cfg;
    EGLint n = 0;
    if (!choose(dpy, attribs, &cfg, 1, &n) || n < 1) { snprintf(err, errlen, "EGL: no RGBA8/depth24 OpenGL config"); return -1; }
    if (!bind(R_EGL_OPENGL_API)) { snprintf(err, errlen, "EGL: cannot bind the OpenGL API"); return -1; }
    EGLContext ctx = create(dpy, cfg, NULL, NULL);
    if (!ctx) { snprintf(err, errlen, "EGL: eglCreateContext failed"); return -1; }
    if (!make_current(dpy, NULL, NULL, ctx)) { snprintf(err, errlen, "EGL: eglMakeCurrent (surfaceless) failed"); return -1; }
    r->backend = 1;
    r->egl_display = dpy;
    r->egl_context = ctx;
    return 0;
}

static int make_osmesa(RiftRenderer* r, char* err, int errlen)
{
    if (!g_osmesa) g_osmesa = dlopen("libOSMesa.so.8", RTLD_NOW | RTLD_GLOBAL);
    if (!g_osmesa) g_osmesa = dlopen("libOSMesa.so.6", RTLD_NOW | RTLD_GLOBAL);
    if (!g_osmesa) { snprintf(err, errlen, "OSMesa: cannot load libOSMesa (%s)", dlerror()); return -1; }
    PFN_OSMesaCreateContextExt create = (PFN_OSMesaCreateContextExt)dlsym(g_osmesa, "OSMesaCreateContextExt");
    PFN_OSMesaMakeCurrent make_current = (PFN_OSMesaMakeCurrent)dlsym(g_osmesa, "OSMesaMakeCurrent");
    if (!create || !make_current) { snprintf(err, errlen, "OSMesa: missing entry points"); return -1; }
    void* ctx = create(0x1908 /* OSMESA_RGBA */, 24, 8, 0, NULL);
    if (!ctx) { snprintf(err, errlen, "OSMesa: OSMesaCreateContextExt failed"); return -1; }
    int w = r->width < 800 ? 800 : r->width, h = r->height < 800 ? 800 : r->height;
    r->osmesa_buffer = malloc((size_t)w * h * 4);
    if (!make_current(ctx, r->osmesa_buffer, 0x1401 /* GL_UNSIGNED_BYTE */, w, h)) { snprintf(err, errlen, "OSMesa: OSMesaMakeCurrent failed"); return -1; }
    r->backend = 2;
    r->osmesa_context = ctx;
    return 0;
}

static void release_gl(RiftRenderer* r)
{
    if (r->backend == 1 && g_egl) {
        PFN_eglMakeCurrent make_current = (PFN_eglMakeCurrent)dlsym(g_egl, "eglMakeCurrent");
        PFN_eglDestroyContext destroy = (PFN_eglDestroyContext)dlsym(g_egl, "eglDestroyContext");
        if (make_current) make_current(r->egl_display, NULL, NULL, NULL);
        if (destroy) destroy(r->egl_display, r->egl_context);
    } else if (r->backend == 2 && g_osmesa) {
        PFN_OSMesaDestroyContext destroy = (PFN_OSMesaDestroyContext)dlsym(g_osmesa, "OSMesaDestroyContext");
        if (destroy) destroy(r->osmesa_context);
        free(r->osmesa_buffer);
    }
    r->backend = 0;
}

// Creates a renderer on the calling thread. backend: 0 auto (EGL, then OSMesa), 1 EGL only, 2 OSMesa only.
// camera: fixed camera id in the model, or -1 for the free camera. The model's offscreen buffer size is raised
// to the image size and multisampling is turned off (policy frames).
RIFT_API int rift_renderer_create(mjModel* m, int width, int height, int backend, int camera, int maxgeom,
                                  RiftRenderer** out, char* err, int errlen)
{
    *out = NULL;
    err[0] = 0;
    RiftRenderer* r = (RiftRenderer*)calloc(1, sizeof(RiftRenderer));
    r->width = width;
    r->height = height;
    char e1[256] = "", e2[256] = "";
    int ok = -1;
    if (backend == 0 || backend == 1) ok = make_egl(r, e1, sizeof e1);
    if (ok != 0 && (backend == 0 || backend == 2)) ok = make_osmesa(r, e2, sizeof e2);
    if (ok != 0) {
        snprintf(err, errlen, "no offscreen GL context: %s%s%s", e1, (e1[0] && e2[0]) ? "; " : "", e2);
        free(r);
        return -1;
    }
    if (m->vis.global.offwidth < width) m->vis.global.offwidth = width;
    if (m->vis.global.offheight < height) m->vis.global.offheight = height;
    m->vis.quality.offsamples = 0;

    jmp_buf jb;
    jmp_buf* prev = t_guard;
    t_error[0] = 0;
    if (setjmp(jb)) {
        t_guard = prev;
        snprintf(err, errlen, "MuJoCo rendering setup failed: %s", t_error);
        release_gl(r);
        free(r);
        return -1;
    }
    t_guard = &jb;
    mjv_defaultScene(&r->scene);
    mjv_defaultOption(&r->option);
    mjv_defaultCamera(&r->camera);
    mjr_defaultContext(&r->context);
    mjv_makeScene(m, &r->scene, maxgeom);
    mjr_makeContext(m, &r->context, mjFONTSCALE_50);
    mjr_setBuffer(mjFB_OFFSCREEN, &r->context);
    t_guard = prev;

    r->scene.flags[mjRND_SHADOW] = 0;
    r->scene.flags[mjRND_REFLECTION] = 0;
    r->scene.flags[mjRND_SKYBOX] = 0;
    if (camera >= 0) {
        r->camera.type = mjCAMERA_FIXED;
        r->camera.fixedcamid = camera;
    }
    r->viewport.left = 0;
    r->viewport.bottom = 0;
    r->viewport.width = width;
    r->viewport.height = height;
    r->rgb = (unsigned char*)malloc((size_t)width * height * 3);
    *out = r;
    return 0;
}

RIFT_API int rift_renderer_backend(const RiftRenderer* r) { return r->backend; }

// Scene flags (mjRND_*) for higher-quality pictures: shadows and reflections.
RIFT_API void rift_renderer_set_flag(RiftRenderer* r, int flag, int value)
{
    if (flag >= 0 && flag < mjNRNDFLAG) r->scene.flags[flag] = (mjtByte)value;
}

// Renders the current state of d into out (rgb24, rows top-down).
RIFT_API int rift_renderer_render(RiftRenderer* r, const mjModel* m, mjData* d, unsigned char* out)
{
    jmp_buf jb;
    jmp_buf* prev = t_guard;
    t_error[0] = 0;
    if (setjmp(jb)) { t_guard = prev; return -1; }
    t_guard = &jb;
    mjv_updateScene(m, d, &r->option, NULL, &r->camera, mjCAT_ALL, &r->scene);
    mjr_render(r->viewport, &r->scene, &r->context);
    mjr_readPixels(r->rgb, NULL, r->viewport, &r->context);
    t_guard = prev;
    // OpenGL rows are bottom-up.
    const size_t row = (size_t)r->width * 3;
    for (int y = 0; y < r->height; y++)
        memcpy(out + (size_t)y * row, r->rgb + (size_t)(r->height - 1 - y) * row, row);
    return 0;
}

RIFT_API void rift_renderer_free(RiftRenderer* r)
{
    if (!r) return;
    mjr_freeContext(&r->context);
    mjv_freeScene(&r->scene);
    release_gl(r);
    free(r->rgb);
    free(r);
}
