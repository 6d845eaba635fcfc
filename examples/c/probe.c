/*
 * probe: what a .inr file holds, and the values of its variables at a point.
 *
 *   probe FILE [X Y Z [T]]
 *
 * Prints the domain kind, bounds, variables (name, components, association,
 * range), time steps, model family and parameter count, then evaluates every
 * variable at (X, Y, Z) and time T with inr_query_points and prints one
 * `name = value` line per variable (`name = (v1, v2, v3)` for vectors).
 * Without a point it probes the center of the bounds; without T, the first
 * time step. Exit status: 0 on success, 1 when a libinr call fails (its
 * status and inr_last_error_message() go to stderr), 2 for bad arguments.
 *
 * Build: see examples/CMakeLists.txt, or
 *   cc -std=c99 probe.c $(pkg-config --cflags --libs inr)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <inr.h>

/* Calls a libinr function; on failure reports it and jumps to `fail`. */
#define CHECK(call)                                                           \
    do {                                                                      \
        inr_status check_status_ = (call);                                    \
        if (check_status_ != INR_OK) {                                        \
            fprintf(stderr, "probe: %s failed: %s: %s\n", #call,             \
                    inr_status_name((int32_t)check_status_),                  \
                    inr_last_error_message());                                \
            goto fail;                                                        \
        }                                                                     \
    } while (0)

static const char *domain_name(inr_domain kind)
{
    switch (kind) {
    case INR_DOMAIN_IMAGE: return "image (uniform grid)";
    case INR_DOMAIN_RECTILINEAR: return "rectilinear grid";
    case INR_DOMAIN_UNSTRUCTURED: return "unstructured mesh";
    case INR_DOMAIN_IMAGES: return "image collection";
    }
    return "unknown";
}

/* A finite number, or an error message and 0. */
static int parse_number(const char *text, const char *what, double *out)
{
    char *end = NULL;
    double value = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(value)) {
        fprintf(stderr, "probe: %s '%s' is not a finite number\n", what, text);
        return 0;
    }
    *out = value;
    return 1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: probe FILE [X Y Z [T]]\n"
            "  prints what FILE holds and the values of its variables at (X, Y, Z)\n"
            "  and time T (default: the center of the bounds, the first time step)\n");
}

int main(int argc, char **argv)
{
    inr_model *model = NULL;
    double *times = NULL;
    float *values = NULL;
    int exit_code = 1;

    double point[3];
    double time = NAN; /* NaN: the first stored step */
    int have_point = 0;
    if (argc == 5 || argc == 6) {
        static const char *const axes[4] = {"x", "y", "z", "time"};
        for (int i = 0; i < argc - 2; i++) {
            double *dst = i < 3 ? &point[i] : &time;
            if (!parse_number(argv[2 + i], axes[i], dst)) {
                return 2;
            }
        }
        have_point = 1;
    } else if (argc != 2) {
        usage();
        return 2;
    }

    /* The library must speak the ABI this program was compiled against. */
    uint32_t abi = inr_abi_version();
    if (abi >> 16 != INR_ABI_VERSION_MAJOR) {
        fprintf(stderr, "probe: libinr %s has C ABI %u.%u, this program needs %d.x\n",
                inr_version(), (unsigned)(abi >> 16), (unsigned)(abi & 0xffffu),
                INR_ABI_VERSION_MAJOR);
        return 1;
    }

    CHECK(inr_open(argv[1], &model));

    uint64_t file_size = 0;
    CHECK(inr_file_size(model, &file_size));
    printf("file: %s (%llu bytes, libinr %s)\n", argv[1], (unsigned long long)file_size,
           inr_version());

    inr_domain kind;
    CHECK(inr_domain_kind(model, &kind));
    printf("domain: %s\n", domain_name(kind));

    double bounds[6];
    CHECK(inr_bounds(model, bounds));
    printf("bounds: x [%.9g, %.9g], y [%.9g, %.9g], z [%.9g, %.9g]\n", bounds[0], bounds[1],
           bounds[2], bounds[3], bounds[4], bounds[5]);
    if (kind == INR_DOMAIN_IMAGE || kind == INR_DOMAIN_RECTILINEAR) {
        uint64_t dims[3];
        CHECK(inr_native_dims(model, dims));
        printf("stored grid: %llu x %llu x %llu points\n", (unsigned long long)dims[0],
               (unsigned long long)dims[1], (unsigned long long)dims[2]);
    } else if (kind == INR_DOMAIN_UNSTRUCTURED) {
        uint64_t n_points = 0, n_cells = 0, connectivity_len = 0;
        CHECK(inr_mesh_sizes(model, &n_points, &n_cells, &connectivity_len));
        printf("mesh: %llu points, %llu cells\n", (unsigned long long)n_points,
               (unsigned long long)n_cells);
    }

    size_t n_variables = 0;
    CHECK(inr_variable_count(model, &n_variables));
    printf("variables: %zu\n", n_variables);
    for (size_t v = 0; v < n_variables; v++) {
        const char *name = NULL;
        const char *units = NULL;
        uint32_t components = 0;
        inr_association association;
        CHECK(inr_variable_name(model, v, &name));
        CHECK(inr_variable_units(model, v, &units));
        CHECK(inr_variable_components(model, v, &components));
        CHECK(inr_variable_association(model, v, &association));
        printf("  %s: %u component%s, %s data", name, (unsigned)components,
               components == 1 ? "" : "s",
               association == INR_ASSOCIATION_CELL ? "cell" : "point");
        if (units != NULL) {
            printf(", units %s", units);
        }
        printf(", range");
        for (uint32_t c = 0; c < components; c++) {
            double range[2];
            CHECK(inr_variable_range(model, v, c, range));
            printf(" [%.9g, %.9g]", range[0], range[1]);
        }
        printf("\n");
    }

    size_t n_times = 0;
    CHECK(inr_time_step_count(model, &n_times));
    if (n_times == 0) {
        printf("time steps: none (static data)\n");
    } else {
        times = malloc(n_times * sizeof *times);
        if (times == NULL) {
            fprintf(stderr, "probe: out of memory\n");
            goto fail;
        }
        CHECK(inr_time_values(model, times, n_times));
        printf("time steps: %zu:", n_times);
        for (size_t i = 0; i < n_times; i++) {
            printf(" %.9g", times[i]);
        }
        printf("\n");
    }

    const char *family = NULL;
    uint64_t n_parameters = 0;
    CHECK(inr_model_family(model, &family));
    CHECK(inr_parameter_count(model, &n_parameters));
    printf("model: %s, %llu parameters\n", family, (unsigned long long)n_parameters);

    if (!have_point) {
        for (int a = 0; a < 3; a++) {
            point[a] = 0.5 * (bounds[2 * a] + bounds[2 * a + 1]);
        }
    }
    if (isnan(time)) {
        printf("\npoint: (%.9g, %.9g, %.9g)%s\n", point[0], point[1], point[2],
               n_times > 0 ? ", first time step" : "");
    } else {
        printf("\npoint: (%.9g, %.9g, %.9g), time %.9g\n", point[0], point[1], point[2], time);
    }

    /* All variables (n_variables = 0): each one's components, in order. */
    size_t floats = 0;
    CHECK(inr_query_components(model, NULL, 0, &floats));
    values = malloc((floats > 0 ? floats : 1) * sizeof *values);
    if (values == NULL) {
        fprintf(stderr, "probe: out of memory\n");
        goto fail;
    }
    CHECK(inr_query_points(model, point, 1, NULL, time, NULL, 0, values, floats, NULL));

    size_t at = 0;
    for (size_t v = 0; v < n_variables; v++) {
        const char *name = NULL;
        uint32_t components = 0;
        CHECK(inr_variable_name(model, v, &name));
        CHECK(inr_variable_components(model, v, &components));
        if (components == 1) {
            printf("%s = %.9g\n", name, values[at]);
        } else {
            printf("%s = (", name);
            for (uint32_t c = 0; c < components; c++) {
                printf("%s%.9g", c > 0 ? ", " : "", values[at + c]);
            }
            printf(")\n");
        }
        at += components;
    }
    exit_code = 0;

fail:
    free(values);
    free(times);
    inr_close(model); /* NULL is fine */
    return exit_code;
}
