"""Small pieces every panel uses: settings, theme, tooltips, paths, the background runner, GC guard, form editors."""
