/*
 * slurm.c - the Slurm client commands as aw-sched uses them: sbatch to
 * submit a job held (so that its id is in the state file before it can
 * run), scontrol to release it, squeue to follow many jobs in one call,
 * scancel to stop them.  They run with a time limit of their own, so a
 * controller that hangs is an error, not a hang.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agentutils.h"
#include "slurm.h"

/* How long one client command may take. */
#define SLURM_MS 60000

/* The first line of a command's stderr, for a message. */
static const char *
first_line(const struct au_capture *c, char *buf, size_t size)
{
	size_t n = c->err ? strcspn(c->err, "\n") : 0;

	if (n == 0)
		return "no message";
	snprintf(buf, size, "%.*s", (int)n, c->err);
	return buf;
}

/* Run argv with input (or /dev/null) on its stdin into c: 0 when it
 * exits 0, else 69 with its message. */
static int
run(char *const *argv, const char *input, struct au_capture *c)
{
	struct au_spawn sp = { argv, NULL, NULL,
	    { AU_FD_NULL, AU_FD_PIPE, AU_FD_PIPE }, 1, NULL, 0, NULL };
	char line[512];
	int rc, fd = -1;

	memset(c, 0, sizeof *c);
	if (input != NULL) {
		fd = memfd_create("script", MFD_CLOEXEC);
		if (fd < 0 || pwrite(fd, input, strlen(input), 0) !=
		    (ssize_t)strlen(input)) {
			if (fd >= 0)
				close(fd);
			return au_seterr(EX_SOFTWARE, "memfd:");
		}
		sp.fd[0] = fd;
	}
	rc = au_capture(&sp, 1 << 20, SLURM_MS, 1000, c);
	if (fd >= 0)
		close(fd);
	if (rc == 0)
		return 0;
	if (c->timed_out)
		return au_seterr(EX_UNAVAILABLE, "%s: no answer in %ds",
		    argv[0], SLURM_MS / 1000);
	if (c->out == NULL && c->err == NULL)
		return au_seterr(EX_UNAVAILABLE, "%s: %s", argv[0],
		    au_errmsg());
	return au_seterr(EX_UNAVAILABLE, "%s: %s", argv[0],
	    first_line(c, line, sizeof line));
}

int
slurm_check(void)
{
	static const char *const need[] = { "sbatch", "scontrol", "squeue",
	    "scancel", NULL };
	char *path;
	int i;

	for (i = 0; need[i]; i++) {
		if ((path = au_which(need[i])) == NULL)
			return au_seterr(EX_UNAVAILABLE, "%s not found: "
			    "--executor slurm needs Slurm's client commands",
			    need[i]);
		free(path);
	}
	return 0;
}

int
slurm_submit(const struct slurm_job *j, char **id)
{
	char *argv[16], *own[10];
	struct au_capture c;
	size_t n = 0, k = 0, len;
	const char *why;
	int rc;

	argv[n++] = "sbatch";
	argv[n++] = "--parsable";
	argv[n++] = "--hold";
	argv[n++] = own[k++] = au_xasprintf("--job-name=%s", j->name);
	argv[n++] = own[k++] = au_xasprintf("--comment=%s", j->comment);
	argv[n++] = own[k++] = au_xasprintf("--output=%s", j->out);
	argv[n++] = own[k++] = au_xasprintf("--error=%s", j->err);
	if (j->partition != NULL)
		argv[n++] = own[k++] = au_xasprintf("--partition=%s",
		    j->partition);
	if (j->gres != NULL)
		argv[n++] = own[k++] = au_xasprintf("--gres=%s", j->gres);
	if (j->constraint != NULL)
		argv[n++] = own[k++] = au_xasprintf("--constraint=%s",
		    j->constraint);
	if (j->cpus > 0)
		argv[n++] = own[k++] = au_xasprintf("--cpus-per-task=%d",
		    j->cpus);
	if (j->mem > 0)
		argv[n++] = own[k++] = au_xasprintf("--mem=%lluM",
		    (unsigned long long)((j->mem + (1u << 20) - 1) >> 20));
	if (j->time_ms > 0)
		argv[n++] = own[k++] = au_xasprintf("--time=%lld",
		    (long long)((j->time_ms + 59999) / 60000));
	argv[n] = NULL;
	rc = run(argv, j->script, &c);
	while (k > 0)
		free(own[--k]);
	/* The controller's refusal is the job's: "sbatch: error: Batch
	 * job submission failed: Invalid partition name specified"; no
	 * answer from it is ours. */
	if (rc != 0 && c.err != NULL && (why = strstr(c.err,
	    "submission failed: ")) != NULL && !strstr(why,
	    "Unable to contact") && !strstr(why, "timed out")) {
		why += strlen("submission failed: ");
		rc = au_seterr(1, "sbatch: %.*s", (int)strcspn(why, "\n"),
		    why);
	}
	if (rc == 0) {
		/* "ID" or "ID;CLUSTER". */
		len = strspn(c.out ? c.out : "", "0123456789");
		if (len == 0)
			rc = au_seterr(EX_UNAVAILABLE, "sbatch: no job id in "
			    "its answer");
		else
			*id = strndup(c.out, len);
	}
	au_capture_free(&c);
	return rc;
}

/* argv[0] argv[1] ids, its output ignored. */
static int
on_jobs(char *cmd, char *verb, const char *ids)
{
	char *argv[] = { cmd, verb, (char *)ids, NULL };
	struct au_capture c;
	int rc;

	if (verb == NULL) {
		argv[1] = (char *)ids;
		argv[2] = NULL;
	}
	rc = run(argv, NULL, &c);
	au_capture_free(&c);
	return rc;
}

int
slurm_release(const char *ids)
{
	return on_jobs("scontrol", "release", ids);
}

int
slurm_cancel(const char *ids)
{
	return on_jobs("scancel", NULL, ids);
}

/* Each line of c's output split at '|' into at most n fields. */
static int
fields(char *line, char **f, int n)
{
	int i = 0;

	f[i++] = line;
	while (i < n && (line = strchr(line, '|')) != NULL) {
		*line++ = '\0';
		f[i++] = line;
	}
	return i;
}

int
slurm_states(const char *ids, jv *states)
{
	char *jobs = au_xasprintf("--jobs=%s", ids);
	char *argv[] = { "squeue", "--noheader", "--states=all",
	    "--format=%i|%T|%r", jobs, NULL };
	char *line, *save, *f[3];
	struct au_capture c;
	int rc = run(argv, NULL, &c);

	free(jobs);
	*states = jv_object();
	/* Not one of them known any more is an error to squeue. */
	if (rc != 0 && c.err != NULL && strstr(c.err, "Invalid job id"))
		rc = 0;
	for (line = rc == 0 && c.out ? strtok_r(c.out, "\n", &save) : NULL;
	    line; line = strtok_r(NULL, "\n", &save))
		if (fields(line, f, 3) == 3)
			*states = jv_object_set(*states, jv_string(f[0]),
			    jv_object_set(jv_object_set(jv_object(),
			    jv_string("state"), jv_string(f[1])),
			    jv_string("reason"), jv_string(f[2])));
	au_capture_free(&c);
	return rc;
}

int
slurm_held(const char *prefix, jv *ids)
{
	char *argv[] = { "squeue", "--noheader", "--states=PENDING",
	    "--format=%i|%r|%k", NULL };
	char *line, *save, *f[3];
	struct au_capture c;
	int rc = run(argv, NULL, &c);

	*ids = jv_array();
	for (line = rc == 0 && c.out ? strtok_r(c.out, "\n", &save) : NULL;
	    line; line = strtok_r(NULL, "\n", &save))
		if (fields(line, f, 3) == 3 && strcmp(f[1], "JobHeldUser") ==
		    0 && strncmp(f[2], prefix, strlen(prefix)) == 0)
			*ids = jv_array_append(*ids, jv_string(f[0]));
	au_capture_free(&c);
	return rc;
}

int
slurm_ended(const char *state)
{
	static const char *const end[] = { "COMPLETED", "FAILED",
	    "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL",
	    "DEADLINE", "OUT_OF_MEMORY", "REVOKED", "SPECIAL_EXIT", NULL };
	int i;

	for (i = 0; end[i]; i++)
		if (strcmp(state, end[i]) == 0)
			return 1;
	return 0;
}
