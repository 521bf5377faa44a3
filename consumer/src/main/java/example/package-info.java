/** A project that uses steer from a Maven repository, as another team's project would. */
package example;
