/*
 * One model, many threads: 8 threads query the same models at once (points
 * with per-point times, grid sub-extents, mesh nodes, and the lazily read
 * mesh itself, first touched by all threads at the same moment) and must
 * get results identical (memcmp) to single-threaded ones. The last error
 * message is per thread.
 *
 *   test_threads IMG.inr MESH.inr [ROUNDS]
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>

#include "test_util.h"

enum { THREADS = 8, POINTS = 2000, EXTENTS = 4, MAX_VARS = 4 };

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t g_start;
static const inr_model *g_img, *g_mesh_fresh;
static int g_rounds = 3;

/* Single-threaded references. */
static double g_xyz[3 * POINTS], g_times[POINTS];
static float *g_points_ref;
static size_t g_points_len;
static const int64_t g_extents[EXTENTS][6] = {
    {0, 23, 0, 19, 0, 15}, {3, 17, 2, 2, 5, 11}, {0, 0, 0, 19, 0, 15}, {10, 20, 4, 15, 7, 9}};
static float *g_grid_ref[EXTENTS][MAX_VARS];
static size_t g_grid_len[EXTENTS][MAX_VARS];
static size_t g_nvars;
static uint64_t g_mesh_sizes[3];
static double *g_mesh_points;
static float *g_nodes_ref[MAX_VARS];
static size_t g_nodes_len[MAX_VARS];

/* Checks from worker threads go through the lock (the helper's counters
 * are plain ints). */
#define TCHECK(cond, ...)                                                   \
  do {                                                                      \
    bool ok_ = (cond);                                                      \
    pthread_mutex_lock(&g_lock);                                            \
    t_checks++;                                                             \
    if (!ok_) t_fail(__FILE__, __LINE__, __VA_ARGS__);                      \
    pthread_mutex_unlock(&g_lock);                                          \
  } while (0)

static void *worker(void *arg)
{
  int id = (int)(intptr_t)arg;
  inr_decode_options opts = {(uint32_t)(id % 3), NULL, NULL, 0, 0, 0.0}; /* 0 (all cores), 1, 2 worker threads */
  TCHECK(inr_last_error_message()[0] == '\0', "thread %d: a fresh thread has a last error message", id);
  pthread_barrier_wait(&g_start);

  /* the mesh, read on first use, by all threads at once */
  uint64_t s[3] = {0, 0, 0};
  inr_status st = inr_mesh_sizes(g_mesh_fresh, &s[0], &s[1], &s[2]);
  TCHECK(st == INR_OK && memcmp(s, g_mesh_sizes, sizeof s) == 0, "thread %d: mesh sizes %s", id,
         inr_status_name(st));
  double *pts = t_xmalloc((size_t)(3 * g_mesh_sizes[0]) * sizeof(double));
  st = inr_mesh_points(g_mesh_fresh, pts, (size_t)(3 * g_mesh_sizes[0]));
  TCHECK(st == INR_OK && memcmp(pts, g_mesh_points, (size_t)(3 * g_mesh_sizes[0]) * sizeof(double)) == 0,
         "thread %d: mesh points differ (%s)", id, inr_status_name(st));
  free(pts);

  char name[32];
  snprintf(name, sizeof name, "no-variable-of-thread-%d", id);
  float *out = t_xmalloc(g_points_len * sizeof(float));
  for (int round = 0; round < g_rounds; round++) {
    /* this thread's own error, which the others' do not overwrite */
    size_t index = 0;
    st = inr_variable_find(g_img, name, &index);
    TCHECK(st == INR_ERROR_INVALID_ARGUMENT, "thread %d: variable_find gave %s", id, inr_status_name(st));

    memset(out, 0, g_points_len * sizeof(float));
    st = inr_query_points(g_img, g_xyz, POINTS, g_times, NAN, NULL, 0, out, g_points_len, &opts);
    TCHECK(st == INR_OK && memcmp(out, g_points_ref, g_points_len * sizeof(float)) == 0,
           "thread %d round %d: query_points differs from the single-threaded result (%s)", id, round,
           inr_status_name(st));

    for (int e = (id + round) % EXTENTS, k = 0; k < 2; k++, e = (e + 1) % EXTENTS) {
      float *bufs[MAX_VARS];
      for (size_t v = 0; v < g_nvars; v++) bufs[v] = t_xmalloc(g_grid_len[e][v] * sizeof(float) + 1);
      st = inr_decode_grid(g_img, NULL, g_extents[e], NULL, 0, 0.5, bufs, g_grid_len[e], &opts);
      bool same = st == INR_OK;
      for (size_t v = 0; v < g_nvars; v++) {
        same = same && memcmp(bufs[v], g_grid_ref[e][v], g_grid_len[e][v] * sizeof(float)) == 0;
        free(bufs[v]);
      }
      TCHECK(same, "thread %d round %d: extent %d differs from the single-threaded decode (%s)", id, round, e,
             inr_status_name(st));
    }

    float *nbufs[MAX_VARS];
    for (size_t v = 0; v < g_nvars; v++) nbufs[v] = t_xmalloc(g_nodes_len[v] * sizeof(float) + 1);
    st = inr_decode_nodes(g_mesh_fresh, NULL, 0, 1.0, nbufs, g_nodes_len, &opts);
    bool same = st == INR_OK;
    for (size_t v = 0; v < g_nvars; v++) {
      same = same && memcmp(nbufs[v], g_nodes_ref[v], g_nodes_len[v] * sizeof(float)) == 0;
      free(nbufs[v]);
    }
    TCHECK(same, "thread %d round %d: decode_nodes differs (%s)", id, round, inr_status_name(st));

    const char *msg = inr_last_error_message();
    TCHECK(strstr(msg, name) != NULL, "thread %d: its last error message became \"%s\"", id, msg);
  }
  free(out);
  return NULL;
}

int main(int argc, char **argv)
{
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: %s IMG.inr MESH.inr [ROUNDS]\n", argv[0]);
    return 2;
  }
  if (argc == 4) g_rounds = atoi(argv[3]);
  if (getenv("INR_TEST_ROUNDS")) g_rounds = atoi(getenv("INR_TEST_ROUNDS"));
  if (g_rounds < 1) g_rounds = 1;
  setvbuf(stdout, NULL, _IOLBF, 0);
  inr_model *img = NULL, *mesh_ref = NULL, *mesh_fresh = NULL;
  REQUIRE_OK(inr_open(argv[1], &img));
  REQUIRE_OK(inr_open(argv[2], &mesh_ref));
  REQUIRE_OK(inr_open(argv[2], &mesh_fresh)); /* its mesh is first read by the threads */
  g_img = img;
  g_mesh_fresh = mesh_fresh;
  const inr_decode_options one = {1, NULL, NULL, 0, 0, 0.0};

  REQUIRE_OK(inr_variable_count(img, &g_nvars));
  REQUIRE(g_nvars <= MAX_VARS);
  for (int i = 0; i < POINTS; i++) {
    g_xyz[3 * i] = -1.5 + 11.5 * (double)((i * 37) % POINTS) / POINTS;
    g_xyz[3 * i + 1] = 0.25 + 4.75 * (double)((i * 53) % POINTS) / POINTS;
    g_xyz[3 * i + 2] = 10.0 + 30.0 * (double)((i * 91) % POINTS) / POINTS;
    g_times[i] = -0.5 + 3.0 * (double)(i % 17) / 16.0; /* some clamped */
  }
  size_t c = 0;
  REQUIRE_OK(inr_query_components(img, NULL, 0, &c));
  g_points_len = (size_t)POINTS * c;
  g_points_ref = t_xmalloc(g_points_len * sizeof(float));
  REQUIRE_OK(inr_query_points(img, g_xyz, POINTS, g_times, NAN, NULL, 0, g_points_ref, g_points_len, &one));
  for (int e = 0; e < EXTENTS; e++) {
    for (size_t v = 0; v < g_nvars; v++) {
      REQUIRE_OK(inr_grid_value_count(img, NULL, g_extents[e], v, &g_grid_len[e][v]));
      g_grid_ref[e][v] = t_xmalloc(g_grid_len[e][v] * sizeof(float) + 1);
    }
    REQUIRE_OK(inr_decode_grid(img, NULL, g_extents[e], NULL, 0, 0.5, g_grid_ref[e], g_grid_len[e], &one));
  }
  REQUIRE_OK(inr_mesh_sizes(mesh_ref, &g_mesh_sizes[0], &g_mesh_sizes[1], &g_mesh_sizes[2]));
  g_mesh_points = t_xmalloc((size_t)(3 * g_mesh_sizes[0]) * sizeof(double));
  REQUIRE_OK(inr_mesh_points(mesh_ref, g_mesh_points, (size_t)(3 * g_mesh_sizes[0])));
  size_t mvars = 0;
  REQUIRE_OK(inr_variable_count(mesh_ref, &mvars));
  REQUIRE(mvars == g_nvars);
  for (size_t v = 0; v < g_nvars; v++) {
    REQUIRE_OK(inr_node_value_count(mesh_ref, v, &g_nodes_len[v]));
    g_nodes_ref[v] = t_xmalloc(g_nodes_len[v] * sizeof(float) + 1);
  }
  REQUIRE_OK(inr_decode_nodes(mesh_ref, NULL, 0, 1.0, g_nodes_ref, g_nodes_len, &one));

  pthread_barrier_init(&g_start, NULL, THREADS);
  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; i++) REQUIRE(pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)i) == 0);
  for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
  pthread_barrier_destroy(&g_start);

  /* the main thread's last error message is its own: none failed here */
  CHECK_EQ_STR(inr_last_error_message(), "");

  for (int e = 0; e < EXTENTS; e++)
    for (size_t v = 0; v < g_nvars; v++) free(g_grid_ref[e][v]);
  for (size_t v = 0; v < g_nvars; v++) free(g_nodes_ref[v]);
  free(g_mesh_points);
  free(g_points_ref);
  inr_close(mesh_fresh);
  inr_close(mesh_ref);
  inr_close(img);
  printf("%d threads x %d rounds\n", THREADS, g_rounds);
  return t_report("threads");
}
