# nomtui's drop-in for the Internet Archive `aliases` file (internetarchive/nomad).
#
#   source /path/to/nomtui/aliases.sh      # in ~/.bashrc or ~/.zshrc
#
# Defines the same names over `nomtui` subcommands, so muscle memory keeps working:
# every nom-* takes the arguments it took before and passes them on as they are.
# Works when sourced by bash and by zsh. Like the original, it first sources
# ~/.config/nomad (NOMAD_ADDR, NOMAD_TOKEN, ...) when that file exists; in an
# interactive shell with nomtui on PATH it also sets up nomtui's tab completion.
#
# `function name { ... }` rather than `name() { ... }`: a user alias of the same name
# (say `d`) would otherwise be expanded inside the definition and break it.

if [ -e "$HOME/.config/nomad" ]; then
    # shellcheck source=/dev/null
    . "$HOME/.config/nomad"
fi

# Open the job's web app in a browser (job from the git checkout when not given).
function nom-app { nomtui app "$@"; }
# A shell in the job's `http` task: nom-ssh [JOB [TASK [COMMAND...]]].
function nom-ssh { nomtui ssh "$@"; }
# A shell in the job's Nth allocation (1-based), for jobs with several.
function nom-sshn { nomtui sshn "$@"; }
# Copy a local file into the running deploy, at the same place relative to the repo.
function nom-cp { nomtui cp "$@"; }
# Follow the `http` task's stdout / stderr.
function nom-logs { nomtui logs -f "$@"; }
function nom-logs-err { nomtui logs -f --stderr "$@"; }
# Job status with health, then the allocation's status and resource use.
function nom-status { nomtui status "$@"; }
# The public URLs of every service job on the cluster.
function nom-urls { nomtui urls "$@"; }
# Fetch the job's spec from the cluster and submit it again (revives a dead job).
function nom-resubmit { nomtui resubmit "$@"; }
# The job and image names the deploy pipeline derives from this git checkout.
function nom-job-from-cwd { nomtui job-from-cwd "$@"; }
function nom-image-from-cwd { nomtui image-from-cwd "$@"; }
# A running allocation of the job.
function nom-job-to-alloc { nomtui job-to-alloc "$@"; }
# A managed ssh tunnel to the cluster's Consul; `nomtui tunnel list` / `stop` manage it.
function nom-tunnel { nomtui tunnel "$@"; }
# Deployment checks over the cluster's jobs.
function nom-deploys-check { nomtui check "$@"; }
function nom-deploys-check-only { nomtui check --only "$@"; }
# Every Docker container on this machine (as `docker ps -a`), grouped by state, each with
# its Nomad job, group, task and allocation. DOCKER_HOST picks another engine.
function d { nomtui containers --all "$@"; }
# Overview of a cluster node when ssh-ed into it: containers, `nomad server members`,
# `nomad status`.
function nom { nomtui overview "$@"; }

# A horizontal rule, as the original printed between sections (100 underscores).
function line {
    printf '%s\n\n' '____________________________________________________________________________________________________'
}

# Tab completion, only in an interactive shell and only when nomtui is installed.
case "$-" in
*i*)
    if command -v nomtui >/dev/null 2>&1; then
        if [ -n "${ZSH_VERSION-}" ]; then
            # click's zsh script registers itself with compdef, which needs compinit.
            if ! command -v compdef >/dev/null 2>&1; then
                autoload -Uz compinit && compinit -i
            fi
            eval "$(_NOMTUI_COMPLETE=zsh_source nomtui)"
        elif [ -n "${BASH_VERSION-}" ]; then
            eval "$(_NOMTUI_COMPLETE=bash_source nomtui)"
        fi
    fi
    ;;
esac
