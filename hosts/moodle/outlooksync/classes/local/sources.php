<?php
// This file is part of local_outlooksync, a Moodle plugin for "Outlook Calendar for the LMS".
//
// It is free software: you can redistribute it and/or modify it under the terms of the GNU
// General Public License as published by the Free Software Foundation, either version 3 of the
// License, or (at your option) any later version.

namespace local_outlooksync\local;

/**
 * The booking modules this site has: face-to-face, mod_booking, both or neither. Neither is required;
 * a module that is not installed is simply not read. Assignments and quizzes (deadlines) are read
 * when the setting "deadlines" is on.
 *
 * @package    local_outlooksync
 * @copyright  2026 Outlook Calendar for the LMS
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class sources {
    /** Kind (scope prefix) => [the module's component, its source class, its module name in course_modules]. */
    public const MODULES = [
        facetoface\map::KIND => ['mod_facetoface', facetoface\source::class, 'facetoface'],
        booking\map::KIND => ['mod_booking', booking\source::class, 'booking'],
        deadline::ASSIGN => ['mod_assign', deadlines\assign_source::class, 'assign'],
        deadline::QUIZ => ['mod_quiz', deadlines\quiz_source::class, 'quiz'],
    ];

    /**
     * The sources of the installed modules (without assignments and quizzes when deadlines are off).
     *
     * @return source[] kind => source
     */
    public static function installed(): array {
        $found = [];
        $deadlines = (bool)get_config('local_outlooksync', 'deadlines');
        foreach (self::MODULES as $kind => [$component, $class]) {
            if (isset(sync::KINDS[$kind]['module']) && !$deadlines) {
                continue;
            }
            if (\core_component::get_component_directory($component) !== null && get_config($component, 'version')) {
                $found[$kind] = new $class();
            }
        }
        return $found;
    }

    /**
     * The kind of a module name ("facetoface" → "f2f"), or null for a module this plugin does not read.
     *
     * @param string $modulename
     * @return string|null
     */
    public static function kind_of_module(string $modulename): ?string {
        foreach (self::MODULES as $kind => [, , $name]) {
            if ($name === $modulename) {
                return $kind;
            }
        }
        return null;
    }
}
