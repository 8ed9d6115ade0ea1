"""Training workflows: the demo MLP pair (mlp), VGG-Face heads (vgg), jobs that run them (jobs),
the student lab's small models (lab) and evaluating any model on held-out images (evaluate).

Commands, tasks and the web views call these; the trainers, datasets and caches beside this
package do the numeric work."""
