<?php
// Loads the plugin's pure classes (classes/local/...) for PHPUnit without Moodle: the same file
// layout Moodle's own autoloader maps local_outlooksync\local\X (and \local\sub\X) to. This is not Moodle.
spl_autoload_register(function (string $class): void {
    $prefix = 'local_outlooksync\\local\\';
    if (strncmp($class, $prefix, strlen($prefix)) === 0) {
        require __DIR__ . '/../outlooksync/classes/local/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    }
});
