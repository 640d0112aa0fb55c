/*
 * slurm.h - aw-sched's way to a Slurm cluster: the client commands
 * (sbatch, scontrol, squeue, scancel) run as children, their answers
 * parsed.  Each returns 0, or an exit code with au_errmsg() set: 69 when
 * the command cannot run or its controller cannot be reached.
 */
#ifndef AW_SCHED_SLURM_H
#define AW_SCHED_SLURM_H

#include "agentutils.h"

/* One submission: the job script and the options it maps to (NULL or 0
 * for an option left out). */
struct slurm_job {
	const char *script;
	const char *name, *comment, *partition;
	const char *gres, *constraint;	/* comma- and &-separated lists */
	const char *out, *err;		/* its output files */
	int cpus;
	uint64_t mem;			/* bytes */
	int64_t time_ms;		/* rounded up to whole minutes */
};

/* Whether Slurm's client commands are on PATH: 0 or 69. */
int slurm_check(void);
/* Submit j held (sbatch --parsable --hold); *id its job id (malloc'd).
 * 1 when the controller refuses the job (its reason in au_errmsg()). */
int slurm_submit(const struct slurm_job *j, char **id);
/* Release the held jobs, or cancel the jobs, of the comma list ids. */
int slurm_release(const char *ids);
int slurm_cancel(const char *ids);
/* The jobs of the comma list ids that Slurm still knows, in one squeue
 * call: *states maps each id to {"state", "reason"}. */
int slurm_states(const char *ids, jv *states);
/* The ids of the held jobs whose comment starts with prefix. */
int slurm_held(const char *prefix, jv *ids);
/* Whether a job state (squeue's %T) is one a job ends in. */
int slurm_ended(const char *state);

#endif
